/* A few per-record loops of signing, verification and the message log, in C (optional: their Python
 * modules, bus/identity/_signing.py, _batch.py, _trust.py and connectors/_message_log.py, have the same
 * loops and use them when this module was not built: bus._built.native is then None). Byte by byte,
 * the forms are documented there; SHA-256 is OpenSSL's (libcrypto, as Python's hashlib uses).
 *
 * canonical_form(prefix, fields, headers, key, value) -> bytes | None
 *     prefix || for (index, name_part) in fields: name_part || (0x00 | 0x01 || u32 len(v) || v)
 *            || (0x01 || SHA-256(key) | 0x00 * 33) || (0x01 || SHA-256(value) | 0x00 * 33)
 *     where v = headers[index][1]: signed form 2's canonical form once the caller has the layout.
 *     None when a header is not a 2-tuple, an index is not an int in range, a value, the key or
 *     the payload is neither bytes nor None, or a value is longer than 2**32 - 1 bytes: the caller
 *     then builds the form in Python, which raises the error Python raises for it.
 *
 * record_digest(prefix, fields, headers, key, value) -> bytes | None
 *     SHA-256 of that form (32 bytes); None as above.
 *
 * climb(digest, path, shape, remembered, batch) -> (known, node, nodes) | None
 *     The climb of bus.identity._batch.VerifiedNodes.climb from the leaf H(0x00 || digest); None when
 *     an argument is not of the expected type or the path is not 32 bytes per step of shape.
 *     Raises ValueError when a node remembered for batch at that place has another hash.
 *
 * batch_known(prefix, fields, headers, key, value, proof, shape, remembered, batch) -> (known, node, nodes) | None
 *     record_digest, then climb from that digest along the path the enlace_proof text (base64url,
 *     below) holds: a batch record's whole quick check in one call.
 *
 * pick(headers, positions) -> list | None
 *     [headers[i][1] for each position i], None where i is -1; None when headers is not a list or
 *     tuple of 2-tuples at those positions or a position is not an int of at least -1.
 *
 * base64url(text) -> bytes | None
 *     The bytes of unpadded base64url text (RFC 4648, section 5); None for anything else (padding,
 *     other characters, a length of 4k + 1, leftover bits that are not zero).
 *
 * batch_proofs(digests) -> (root, proofs) | None
 *     For a list of 2 to 65,536 record digests (32 bytes each): the root of their RFC 9162 tree of
 *     leaves H(0x00 || digest) and, per record, its audit path (leaf to root) as enlace_proof's
 *     unpadded base64url text. None for anything else.
 *
 * log_body(magic, key, value, headers) -> bytes | None
 *     magic || opt(key) || opt(value) || u32 len(headers) || per header: u32 len(name) | name (UTF-8)
 *     || opt(value), where opt(x) = 0x00 for None, 0x01 || u32 len(x) || x: a message-log entry's body
 *     (connectors/_message_log.py). None when a name is not a str encodable as UTF-8 or a value is
 *     not bytes or None.
 *
 * record_size(key, value, headers) -> int | None
 *     len(key) + len(value) + sum(len(name) + len(value)) (None counts 0; len of a name is in
 *     characters, as Python's len): what a receiver's size limit counts. None for other types.
 *
 * header_names(headers) -> tuple | None
 *     tuple(name for name, _ in headers) when headers is a list or tuple of 2-tuples, else None.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define HASH_BYTES 32

/* OpenSSL's SHA-256 without the EVP layer: EVP_DigestInit (and SHA256(), built on it in OpenSSL 3)
 * finds the algorithm's provider on every hash, which costs more than hashing a record's 1 KB. The
 * SHA256_Init family is deprecated in OpenSSL 3 in favour of EVP, not withdrawn, and runs the same
 * assembly (SHA-NI where the CPU has it). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

static int
sha256(const unsigned char *data, size_t length, unsigned char *out)
{
    SHA256_CTX context;
    return SHA256_Init(&context) && SHA256_Update(&context, data, length) && SHA256_Final(out, &context);
}

static PyObject *
openssl_failed(void)
{
    PyErr_SetString(PyExc_RuntimeError, "OpenSSL's SHA-256 failed");
    return NULL;
}

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

/* The hashed part of the key or payload: 0x01 || SHA-256(bytes), or 33 zero bytes for None. */
static int
hashed_part(PyObject *data, unsigned char *out)
{
    if (data == Py_None) {
        memset(out, 0, 1 + HASH_BYTES);
        return 1;
    }
    out[0] = 1;
    return sha256((const unsigned char *)PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data), out + 1);
}

/* The canonical form as a new bytes object; Py_None (a new reference) when Python should build it. */
static PyObject *
build_form(PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "takes prefix, fields, headers, key, value");
        return NULL;
    }
    PyObject *prefix = args[0], *fields = args[1], *headers = args[2], *key = args[3], *value = args[4];
    if (!PyBytes_CheckExact(prefix) || !PyTuple_CheckExact(fields) ||
        !(key == Py_None || PyBytes_CheckExact(key)) || !(value == Py_None || PyBytes_CheckExact(value)) ||
        !(PyList_CheckExact(headers) || PyTuple_CheckExact(headers))) {
        Py_RETURN_NONE;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers);
    Py_ssize_t nfields = PyTuple_GET_SIZE(fields);
    Py_ssize_t total = PyBytes_GET_SIZE(prefix) + 2 * (1 + HASH_BYTES);
    for (Py_ssize_t i = 0; i < nfields; i++) {
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 2 || !PyBytes_CheckExact(PyTuple_GET_ITEM(field, 1))) {
            Py_RETURN_NONE;
        }
        int ok;
        PyObject *header = header_value(headers, count, PyTuple_GET_ITEM(field, 0), &ok);
        if (!ok) {
            Py_RETURN_NONE;
        }
        total += PyBytes_GET_SIZE(PyTuple_GET_ITEM(field, 1)) + 1;
        if (header != Py_None) {
            total += 4 + PyBytes_GET_SIZE(header);
        }
        if (total < 0) { /* overflow: no such record fits in memory */
            Py_RETURN_NONE;
        }
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL) {
        return NULL;
    }
    unsigned char *at = (unsigned char *)PyBytes_AS_STRING(out);
    memcpy(at, PyBytes_AS_STRING(prefix), PyBytes_GET_SIZE(prefix));
    at += PyBytes_GET_SIZE(prefix);
    for (Py_ssize_t i = 0; i < nfields; i++) {
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        PyObject *name_part = PyTuple_GET_ITEM(field, 1);
        int ok;
        PyObject *header = header_value(headers, count, PyTuple_GET_ITEM(field, 0), &ok);
        if (!ok) { /* cannot happen: nothing ran between the passes; never write past the buffer */
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        memcpy(at, PyBytes_AS_STRING(name_part), PyBytes_GET_SIZE(name_part));
        at += PyBytes_GET_SIZE(name_part);
        if (header == Py_None) {
            *at++ = 0;
            continue;
        }
        uint32_t length = (uint32_t)PyBytes_GET_SIZE(header);
        *at++ = 1;
        *at++ = (unsigned char)(length >> 24);
        *at++ = (unsigned char)(length >> 16);
        *at++ = (unsigned char)(length >> 8);
        *at++ = (unsigned char)length;
        memcpy(at, PyBytes_AS_STRING(header), length);
        at += length;
    }
    if (!hashed_part(key, at) || !hashed_part(value, at + 1 + HASH_BYTES)) {
        Py_DECREF(out);
        return openssl_failed();
    }
    return out;
}

static PyObject *
canonical_form(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return build_form(args, nargs);
}

static PyObject *
record_digest(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *form = build_form(args, nargs);
    if (form == NULL || form == Py_None) {
        return form;
    }
    unsigned char digest[HASH_BYTES];
    int ok = sha256((const unsigned char *)PyBytes_AS_STRING(form), (size_t)PyBytes_GET_SIZE(form), digest);
    Py_DECREF(form);
    if (!ok) {
        return openssl_failed();
    }
    return PyBytes_FromStringAndSize((const char *)digest, HASH_BYTES);
}

/* shape[level] = (sibling_on_left: bool, lo: int, hi: int); 1 when well formed. */
static int
shape_step(PyObject *step, int *on_left, PyObject **lo, PyObject **hi)
{
    if (!PyTuple_CheckExact(step) || PyTuple_GET_SIZE(step) != 3 || !PyBool_Check(PyTuple_GET_ITEM(step, 0)) ||
        !PyLong_CheckExact(PyTuple_GET_ITEM(step, 1)) || !PyLong_CheckExact(PyTuple_GET_ITEM(step, 2))) {
        return 0;
    }
    *on_left = PyTuple_GET_ITEM(step, 0) == Py_True;
    *lo = PyTuple_GET_ITEM(step, 1);
    *hi = PyTuple_GET_ITEM(step, 2);
    return 1;
}

static PyObject *climb_path(PyObject *digest, PyObject *path, PyObject *shape, PyObject *remembered, PyObject *batch);

static PyObject *
climb(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "climb takes digest, path, shape, remembered, batch");
        return NULL;
    }
    PyObject *digest = args[0], *path = args[1], *shape = args[2], *remembered = args[3], *batch = args[4];
    if (!PyBytes_CheckExact(digest) || PyBytes_GET_SIZE(digest) != HASH_BYTES || !PyBytes_CheckExact(path) ||
        !PyTuple_CheckExact(shape) || !PyDict_Check(remembered) ||
        PyBytes_GET_SIZE(path) != PyTuple_GET_SIZE(shape) * HASH_BYTES) {
        Py_RETURN_NONE;
    }
    return climb_path(digest, path, shape, remembered, batch);
}

static PyObject *base64url(PyObject *module, PyObject *text);

static PyObject *
batch_known(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "batch_known takes prefix, fields, headers, key, value, proof, shape, remembered, batch");
        return NULL;
    }
    PyObject *digest = record_digest(module, args, 5);
    if (digest == NULL || digest == Py_None) {
        return digest;
    }
    PyObject *path = base64url(module, args[5]);
    if (path == NULL || path == Py_None) {
        Py_DECREF(digest);
        return path;
    }
    PyObject *climbed = climb(module, (PyObject *const[]){digest, path, args[6], args[7], args[8]}, 5);
    Py_DECREF(path);
    Py_DECREF(digest);
    return climbed;
}

static PyObject *
pick(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !(PyList_CheckExact(args[0]) || PyTuple_CheckExact(args[0])) || !PyTuple_CheckExact(args[1])) {
        Py_RETURN_NONE;
    }
    PyObject *headers = args[0], *positions = args[1];
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers), npositions = PyTuple_GET_SIZE(positions);
    PyObject *values = PyList_New(npositions);
    if (values == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < npositions; i++) {
        PyObject *position = PyTuple_GET_ITEM(positions, i), *value = Py_None;
        Py_ssize_t index = -2;
        if (PyLong_CheckExact(position)) {
            index = PyLong_AsSsize_t(position);
            if (index == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                index = -2;
            }
        }
        if (index >= 0) {
            PyObject *header = index < count ? PySequence_Fast_GET_ITEM(headers, index) : NULL;
            if (header == NULL || !PyTuple_CheckExact(header) || PyTuple_GET_SIZE(header) != 2) {
                Py_DECREF(values);
                Py_RETURN_NONE;
            }
            value = PyTuple_GET_ITEM(header, 1);
        } else if (index != -1) {
            Py_DECREF(values);
            Py_RETURN_NONE;
        }
        Py_INCREF(value);
        PyList_SET_ITEM(values, i, value);
    }
    return values;
}

static PyObject *
climb_path(PyObject *digest, PyObject *path, PyObject *shape, PyObject *remembered, PyObject *batch)
{
    unsigned char block[1 + 2 * HASH_BYTES], node[HASH_BYTES];
    block[0] = 0;
    memcpy(block + 1, PyBytes_AS_STRING(digest), HASH_BYTES);
    if (!sha256(block, 1 + HASH_BYTES, node)) {
        return openssl_failed();
    }
    const unsigned char *siblings = (const unsigned char *)PyBytes_AS_STRING(path);
    PyObject *nodes = PyList_New(0);
    if (nodes == NULL) {
        return NULL;
    }
    int known = 0;
    block[0] = 1;
    for (Py_ssize_t level = 0; level < PyTuple_GET_SIZE(shape); level++) {
        int on_left;
        PyObject *lo, *hi;
        if (!shape_step(PyTuple_GET_ITEM(shape, level), &on_left, &lo, &hi)) {
            Py_DECREF(nodes);
            Py_RETURN_NONE;
        }
        const unsigned char *sibling = siblings + level * HASH_BYTES;
        memcpy(block + 1, on_left ? sibling : node, HASH_BYTES);
        memcpy(block + 1 + HASH_BYTES, on_left ? node : sibling, HASH_BYTES);
        if (!sha256(block, sizeof block, node)) {
            Py_DECREF(nodes);
            return openssl_failed();
        }
        PyObject *place = PyTuple_Pack(3, batch, lo, hi);
        if (place == NULL) {
            Py_DECREF(nodes);
            return NULL;
        }
        /* The key is a tuple of the batch (str, int, bytes), ints: hashing and comparing run no Python code. */
        PyObject *seen = PyDict_GetItemWithError(remembered, place);
        Py_DECREF(place);
        if (seen == NULL && PyErr_Occurred()) {
            Py_DECREF(nodes);
            return NULL;
        }
        if (seen != NULL) {
            if (!PyBytes_CheckExact(seen) || PyBytes_GET_SIZE(seen) != HASH_BYTES ||
                memcmp(PyBytes_AS_STRING(seen), node, HASH_BYTES) != 0) {
                Py_DECREF(nodes);
                PyErr_SetString(PyExc_ValueError, "the record's audit path does not meet its batch's verified tree");
                return NULL;
            }
            known = 1;
            break;
        }
        PyObject *entry = Py_BuildValue("(OOy#)", lo, hi, (const char *)node, (Py_ssize_t)HASH_BYTES);
        if (entry == NULL || PyList_Append(nodes, entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(nodes);
            return NULL;
        }
        Py_DECREF(entry);
    }
    PyObject *result = Py_BuildValue("(Oy#N)", known ? Py_True : Py_False, (const char *)node, (Py_ssize_t)HASH_BYTES, nodes);
    return result;
}

/* base64url's alphabet (RFC 4648, section 5), and each byte's 6 bits in it (0xff: not in it). */
static const char base64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static unsigned char base64url_bits[256];

static void
fill_base64url_bits(void)
{
    memset(base64url_bits, 0xff, sizeof base64url_bits);
    for (int i = 0; i < 64; i++) {
        base64url_bits[(unsigned char)base64url_alphabet[i]] = (unsigned char)i;
    }
}

static PyObject *
base64url(PyObject *module, PyObject *text)
{
    if (!PyBytes_CheckExact(text)) {
        Py_RETURN_NONE;
    }
    const unsigned char *in = (const unsigned char *)PyBytes_AS_STRING(text);
    Py_ssize_t length = PyBytes_GET_SIZE(text);
    if (length % 4 == 1) {
        Py_RETURN_NONE;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, length / 4 * 3 + (length % 4 ? length % 4 - 1 : 0));
    if (out == NULL) {
        return NULL;
    }
    unsigned char *at = (unsigned char *)PyBytes_AS_STRING(out);
    uint32_t bits = 0;
    int held = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char six = base64url_bits[in[i]];
        if (six == 0xff) { /* padding, whitespace, '+', '/': Python's decoder says what it makes of them */
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        bits = (bits << 6) | six;
        held += 6;
        if (held >= 8) {
            held -= 8;
            *at++ = (unsigned char)(bits >> held);
            bits &= (1u << held) - 1;
        }
    }
    if (bits != 0) { /* leftover bits that are not zero: not the canonical text of these bytes */
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
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

/* RFC 9162's tree over leaves[lo:hi] (32 bytes each): its hash into out, and each leaf's audit path
 * extended by the sibling it meets at this level (paths: depth hashes per leaf, lengths: how many so far). */
static int
subtree(const unsigned char *leaves, Py_ssize_t lo, Py_ssize_t hi, unsigned char *paths, int depth, int *lengths,
        unsigned char *out)
{
    if (hi - lo == 1) {
        memcpy(out, leaves + lo * HASH_BYTES, HASH_BYTES);
        return 1;
    }
    Py_ssize_t split = 1;
    while (split * 2 < hi - lo) {
        split *= 2;
    }
    Py_ssize_t middle = lo + split;
    unsigned char block[1 + 2 * HASH_BYTES];
    block[0] = 1;
    if (!subtree(leaves, lo, middle, paths, depth, lengths, block + 1) ||
        !subtree(leaves, middle, hi, paths, depth, lengths, block + 1 + HASH_BYTES)) {
        return 0;
    }
    for (Py_ssize_t i = lo; i < hi; i++) {
        const unsigned char *sibling = i < middle ? block + 1 + HASH_BYTES : block + 1;
        memcpy(paths + (i * depth + lengths[i]) * HASH_BYTES, sibling, HASH_BYTES);
        lengths[i]++;
    }
    return sha256(block, sizeof block, out);
}

/* Unpadded base64url of data as a new bytes object. */
static PyObject *
base64url_text(const unsigned char *data, Py_ssize_t length)
{
    PyObject *out = PyBytes_FromStringAndSize(NULL, (length * 4 + 2) / 3);
    if (out == NULL) {
        return NULL;
    }
    unsigned char *at = (unsigned char *)PyBytes_AS_STRING(out);
    Py_ssize_t i = 0;
    for (; i + 3 <= length; i += 3) {
        uint32_t bits = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *at++ = base64url_alphabet[bits >> 18];
        *at++ = base64url_alphabet[(bits >> 12) & 63];
        *at++ = base64url_alphabet[(bits >> 6) & 63];
        *at++ = base64url_alphabet[bits & 63];
    }
    if (length - i == 1) {
        *at++ = base64url_alphabet[data[i] >> 2];
        *at++ = base64url_alphabet[(data[i] & 3) << 4];
    } else if (length - i == 2) {
        uint32_t bits = (uint32_t)data[i] << 8 | data[i + 1];
        *at++ = base64url_alphabet[bits >> 10];
        *at++ = base64url_alphabet[(bits >> 4) & 63];
        *at++ = base64url_alphabet[(bits & 15) << 2];
    }
    return out;
}

static PyObject *
batch_proofs(PyObject *module, PyObject *digests)
{
    if (!PyList_CheckExact(digests) || PyList_GET_SIZE(digests) < 2 || PyList_GET_SIZE(digests) > 65536) {
        Py_RETURN_NONE;
    }
    Py_ssize_t count = PyList_GET_SIZE(digests);
    int depth = 0;
    while (((Py_ssize_t)1 << depth) < count) {
        depth++;
    }
    unsigned char *leaves = PyMem_Malloc((size_t)count * HASH_BYTES);
    unsigned char *paths = PyMem_Malloc((size_t)count * depth * HASH_BYTES);
    int *lengths = PyMem_Calloc((size_t)count, sizeof(int));
    PyObject *proofs = NULL, *result = NULL;
    if (leaves == NULL || paths == NULL || lengths == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    unsigned char block[1 + HASH_BYTES];
    block[0] = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *digest = PyList_GET_ITEM(digests, i);
        if (!PyBytes_CheckExact(digest) || PyBytes_GET_SIZE(digest) != HASH_BYTES) {
            result = Py_None;
            Py_INCREF(result);
            goto done;
        }
        memcpy(block + 1, PyBytes_AS_STRING(digest), HASH_BYTES);
        if (!sha256(block, sizeof block, leaves + i * HASH_BYTES)) {
            openssl_failed();
            goto done;
        }
    }
    unsigned char root[HASH_BYTES];
    if (!subtree(leaves, 0, count, paths, depth, lengths, root)) {
        openssl_failed();
        goto done;
    }
    proofs = PyList_New(count);
    if (proofs == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *text = base64url_text(paths + i * depth * HASH_BYTES, (Py_ssize_t)lengths[i] * HASH_BYTES);
        if (text == NULL) {
            goto done;
        }
        PyList_SET_ITEM(proofs, i, text);
    }
    result = Py_BuildValue("(y#O)", (const char *)root, (Py_ssize_t)HASH_BYTES, proofs);
done:
    Py_XDECREF(proofs);
    PyMem_Free(leaves);
    PyMem_Free(paths);
    PyMem_Free(lengths);
    return result;
}

/* len(name) | name as UTF-8 (surrogateescape: a lone surrogate is left to Python). */
static int
text_size(PyObject *text, Py_ssize_t *size, const char **utf8)
{
    if (!PyUnicode_CheckExact(text)) {
        return 0;
    }
    *utf8 = PyUnicode_AsUTF8AndSize(text, size);
    if (*utf8 == NULL) {
        PyErr_Clear();
        return 0;
    }
    return (uint64_t)*size <= UINT32_MAX;
}

static unsigned char *
put_u32(unsigned char *at, uint32_t n)
{
    at[0] = (unsigned char)(n >> 24);
    at[1] = (unsigned char)(n >> 16);
    at[2] = (unsigned char)(n >> 8);
    at[3] = (unsigned char)n;
    return at + 4;
}

static Py_ssize_t
optional_size(PyObject *data)
{
    if (data == Py_None) {
        return 1;
    }
    if (!PyBytes_CheckExact(data) || (uint64_t)PyBytes_GET_SIZE(data) > UINT32_MAX) {
        return -1;
    }
    return 5 + PyBytes_GET_SIZE(data);
}

static unsigned char *
put_optional(unsigned char *at, PyObject *data)
{
    if (data == Py_None) {
        *at++ = 0;
        return at;
    }
    *at++ = 1;
    at = put_u32(at, (uint32_t)PyBytes_GET_SIZE(data));
    memcpy(at, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data));
    return at + PyBytes_GET_SIZE(data);
}

static PyObject *
log_body(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "log_body takes magic, key, value, headers");
        return NULL;
    }
    PyObject *magic = args[0], *key = args[1], *value = args[2], *headers = args[3];
    if (!PyBytes_CheckExact(magic) || !(PyList_CheckExact(headers) || PyTuple_CheckExact(headers))) {
        Py_RETURN_NONE;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers);
    Py_ssize_t key_size = optional_size(key), value_size = optional_size(value);
    if (key_size < 0 || value_size < 0 || (uint64_t)count > UINT32_MAX) {
        Py_RETURN_NONE;
    }
    Py_ssize_t total = PyBytes_GET_SIZE(magic) + key_size + value_size + 4;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *header = PySequence_Fast_GET_ITEM(headers, i);
        Py_ssize_t name_size, header_size;
        const char *utf8;
        if (!PyTuple_CheckExact(header) || PyTuple_GET_SIZE(header) != 2 ||
            !text_size(PyTuple_GET_ITEM(header, 0), &name_size, &utf8) ||
            (header_size = optional_size(PyTuple_GET_ITEM(header, 1))) < 0) {
            Py_RETURN_NONE;
        }
        total += 4 + name_size + header_size;
        if (total < 0) {
            Py_RETURN_NONE;
        }
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL) {
        return NULL;
    }
    unsigned char *at = (unsigned char *)PyBytes_AS_STRING(out);
    memcpy(at, PyBytes_AS_STRING(magic), PyBytes_GET_SIZE(magic));
    at = put_optional(at + PyBytes_GET_SIZE(magic), key);
    at = put_optional(at, value);
    at = put_u32(at, (uint32_t)count);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *header = PySequence_Fast_GET_ITEM(headers, i);
        Py_ssize_t name_size;
        const char *utf8;
        if (!text_size(PyTuple_GET_ITEM(header, 0), &name_size, &utf8)) { /* checked above: cannot happen */
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        at = put_u32(at, (uint32_t)name_size);
        memcpy(at, utf8, name_size);
        at = put_optional(at + name_size, PyTuple_GET_ITEM(header, 1));
    }
    return out;
}

static PyObject *
record_size(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !(PyList_CheckExact(args[2]) || PyTuple_CheckExact(args[2]))) {
        Py_RETURN_NONE;
    }
    Py_ssize_t size = 0;
    for (int i = 0; i < 2; i++) {
        if (PyBytes_CheckExact(args[i])) {
            size += PyBytes_GET_SIZE(args[i]);
        } else if (args[i] != Py_None) {
            Py_RETURN_NONE;
        }
    }
    PyObject *headers = args[2];
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(headers); i++) {
        PyObject *header = PySequence_Fast_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(header) || PyTuple_GET_SIZE(header) != 2 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(header, 0))) {
            Py_RETURN_NONE;
        }
        PyObject *value = PyTuple_GET_ITEM(header, 1);
        size += PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(header, 0));
        if (PyBytes_CheckExact(value)) {
            size += PyBytes_GET_SIZE(value);
        } else if (value != Py_None) {
            Py_RETURN_NONE;
        }
    }
    return PyLong_FromSsize_t(size);
}

static PyMethodDef methods[] = {
    {"batch_proofs", batch_proofs, METH_O,
     "The root of a batch's tree of record digests and each record's enlace_proof (None: build them in Python)."},
    {"log_body", (PyCFunction)(void (*)(void))log_body, METH_FASTCALL,
     "A message-log entry's body from a record's key, value and headers (None: build it in Python)."},
    {"record_size", (PyCFunction)(void (*)(void))record_size, METH_FASTCALL,
     "len(key) + len(value) + each header's len(name) + len(value) (None: count it in Python)."},
    {"canonical_form", (PyCFunction)(void (*)(void))canonical_form, METH_FASTCALL,
     "Signed form 2's canonical form from a header layout (None: build it in Python)."},
    {"record_digest", (PyCFunction)(void (*)(void))record_digest, METH_FASTCALL,
     "SHA-256 of signed form 2's canonical form (None: compute it in Python)."},
    {"climb", (PyCFunction)(void (*)(void))climb, METH_FASTCALL,
     "A batch record's climb from its leaf to its batch's verified tree or root (None: climb in Python)."},
    {"base64url", base64url, METH_O, "Bytes of unpadded base64url text (None: not exactly that; decode it in Python)."},
    {"batch_known", (PyCFunction)(void (*)(void))batch_known, METH_FASTCALL,
     "record_digest, then climb along the enlace_proof text's path (None: not shown this way)."},
    {"pick", (PyCFunction)(void (*)(void))pick, METH_FASTCALL, "Header values at positions, None at -1 (None: not such headers)."},
    {"header_names", header_names, METH_O, "The names of a list of (name, value) headers (None: not such a list)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bus._native", "Per-record loops of signing, verification and the message log, in C.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    fill_base64url_bits();
    return PyModule_Create(&module);
}
