/* The two per-record loops of signing and verification, in C (optional: bus/identity/_signing.py has
 * the same in Python and uses it when this module was not built).
 *
 * canonical_form(prefix, fields, headers, key_part, value_part) -> bytes | None
 *     prefix || for (index, name_part) in fields: name_part || (0x00 | 0x01 || u32 len(v) || v)
 *            || key_part || value_part
 *     where v = headers[index][1]; signed form 2's canonical form once the caller has the layout
 *     (bus/identity/_signing.py documents it byte by byte). None when a header is not a 2-tuple, an
 *     index is out of range, a value is neither bytes nor None or longer than 2**32 - 1 bytes: the
 *     caller then builds the form in Python, which raises the error Python raises for it.
 *
 * header_names(headers) -> tuple | None
 *     tuple(name for name, _ in headers) when headers is a list or tuple of 2-tuples, else None.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *
header_value(PyObject *headers, Py_ssize_t count, PyObject *index_obj, int *ok)
{
    /* An exact int runs no Python code (an __index__ could change the headers between the passes). */
    Py_ssize_t index = PyLong_CheckExact(index_obj) ? PyLong_AsSsize_t(index_obj) : -1;
    if (index == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        *ok = 0;
        return NULL;
    }
    if (index < 0 || index >= count) {
        *ok = 0;
        return NULL;
    }
    PyObject *header = PySequence_Fast_GET_ITEM(headers, index);
    if (!PyTuple_CheckExact(header) || PyTuple_GET_SIZE(header) != 2) {
        *ok = 0;
        return NULL;
    }
    PyObject *value = PyTuple_GET_ITEM(header, 1);
    if (value != Py_None && (!PyBytes_CheckExact(value) || (uint64_t)PyBytes_GET_SIZE(value) > UINT32_MAX)) {
        *ok = 0;
        return NULL;
    }
    *ok = 1;
    return value;
}

static PyObject *
canonical_form(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "canonical_form takes prefix, fields, headers, key_part, value_part");
        return NULL;
    }
    PyObject *prefix = args[0], *fields = args[1], *headers = args[2], *key_part = args[3], *value_part = args[4];
    if (!PyBytes_CheckExact(prefix) || !PyTuple_CheckExact(fields) || !PyBytes_CheckExact(key_part) ||
        !PyBytes_CheckExact(value_part) || !(PyList_CheckExact(headers) || PyTuple_CheckExact(headers))) {
        Py_RETURN_NONE;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers);
    Py_ssize_t nfields = PyTuple_GET_SIZE(fields);
    Py_ssize_t total = PyBytes_GET_SIZE(prefix) + PyBytes_GET_SIZE(key_part) + PyBytes_GET_SIZE(value_part);
    for (Py_ssize_t i = 0; i < nfields; i++) {
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 2 || !PyBytes_CheckExact(PyTuple_GET_ITEM(field, 1))) {
            Py_RETURN_NONE;
        }
        int ok;
        PyObject *value = header_value(headers, count, PyTuple_GET_ITEM(field, 0), &ok);
        if (!ok) {
            Py_RETURN_NONE;
        }
        total += PyBytes_GET_SIZE(PyTuple_GET_ITEM(field, 1)) + 1;
        if (value != Py_None) {
            total += 4 + PyBytes_GET_SIZE(value);
        }
        if (total < 0) { /* overflow: no such record fits in memory */
            Py_RETURN_NONE;
        }
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL) {
        return NULL;
    }
    char *at = PyBytes_AS_STRING(out);
    memcpy(at, PyBytes_AS_STRING(prefix), PyBytes_GET_SIZE(prefix));
    at += PyBytes_GET_SIZE(prefix);
    for (Py_ssize_t i = 0; i < nfields; i++) {
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        PyObject *name_part = PyTuple_GET_ITEM(field, 1);
        int ok;
        PyObject *value = header_value(headers, count, PyTuple_GET_ITEM(field, 0), &ok);
        if (!ok) { /* cannot happen: nothing ran between the passes; never write past the buffer */
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        memcpy(at, PyBytes_AS_STRING(name_part), PyBytes_GET_SIZE(name_part));
        at += PyBytes_GET_SIZE(name_part);
        if (value == Py_None) {
            *at++ = 0;
            continue;
        }
        uint32_t length = (uint32_t)PyBytes_GET_SIZE(value);
        *at++ = 1;
        *at++ = (char)(length >> 24);
        *at++ = (char)(length >> 16);
        *at++ = (char)(length >> 8);
        *at++ = (char)length;
        memcpy(at, PyBytes_AS_STRING(value), length);
        at += length;
    }
    memcpy(at, PyBytes_AS_STRING(key_part), PyBytes_GET_SIZE(key_part));
    at += PyBytes_GET_SIZE(key_part);
    memcpy(at, PyBytes_AS_STRING(value_part), PyBytes_GET_SIZE(value_part));
    return out;
}

static PyObject *
header_names(PyObject *module, PyObject *headers)
{
    if (!(PyList_CheckExact(headers) || PyTuple_CheckExact(headers))) {
        Py_RETURN_NONE;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers);
    PyObject *names = PyTuple_New(count);
    if (names == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *header = PySequence_Fast_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(header) || PyTuple_GET_SIZE(header) != 2) {
            Py_DECREF(names);
            Py_RETURN_NONE;
        }
        PyObject *name = PyTuple_GET_ITEM(header, 0);
        Py_INCREF(name);
        PyTuple_SET_ITEM(names, i, name);
    }
    return names;
}

static PyMethodDef methods[] = {
    {"canonical_form", (PyCFunction)(void (*)(void))canonical_form, METH_FASTCALL,
     "Signed form 2's canonical form from a header layout (None: build it in Python)."},
    {"header_names", header_names, METH_O, "The names of a list of (name, value) headers (None: not such a list)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bus.identity._native", "Signing and verification's per-record loops in C.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&module);
}
