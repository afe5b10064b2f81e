"""The shared government records: catalog, validation, CURP/RFC validators, typed models.

The ``.avsc`` files under ``schemas/<namespace>/<Name>/v<N>.avsc`` are the contract; everything
here is derived from them.

Catalog::

    from bus.records import catalog
    case = catalog().get("CaseOpened")            # latest version; or get("mx.gob.crm.CaseOpened", 1)
    case.full_name, case.version, case.owner      # "mx.gob.crm.CaseOpened", 2, "urn:mx:gob:crm"
    case.topic, case.key_field                    # "mx.gob.crm.case-opened", "caseId"
    case.subject                                  # "mx.gob.crm.CaseOpened" (the registry subject)
    case.schema, case.parsed, case.references()   # .avsc dict, fastavro-parsed, shared types it uses
    case.model                                    # bus.records.models.CaseOpenedV2

- ``catalog()`` loads ``ENLACE_SCHEMAS_DIR`` (else the repository's ``schemas/``) once per process;
  ``load_catalog(path)`` loads another folder, refusing it with every problem listed.
  ``Catalog.records()`` yields every version of every type, shared types first in dependency order
  (the order to register them in). ``read_schema_files(path)`` is the reader underneath, which
  collects ``CatalogProblem`` s instead of raising (what ``enlace schemas check`` reports).
- Owners come from ``policy.yaml`` through ``bus.policy`` (the one parser of the policy).
- Shared types (``mx.gob.common.Person``, ``Address``, ``Contact``, ``State``) are referenced by full
  name; the catalog resolves a reference to the shared type's latest version.
- Registry subjects follow RecordNameStrategy: the subject is the record's full name, the same for
  all its versions (``RecordType.subject``). Shared types are subjects of their own.
- A record's ``keyField`` attribute names the field holding its Kafka key and CloudEvents subject
  (a CURP, an RFC, a case id); ``RecordType.key_of(data)`` reads it.
- Every field carries ``"classification"``: ``public``, ``personal`` or ``sensitive``
  (``RecordType.field_classifications()``, ``RecordType.classification``).

Validation (every problem, with a JSON pointer, a rule id, the value and a sentence)::

    problems = validate(case, data)               # [] when valid
    check(case, data)                             # raises ValidationError with .problems
    data = from_json(case, json.load(f))          # JSON text forms to the Avro dict, checked
    validate_curp("HEGG560427MVZRRL04", path="/citizenCurp")
    validate_rfc("GODE561231GR8", strict=True)    # strict=False skips the check digit

The domain rules (``format``, ``pattern``, ``minimum``/``maximum``, ``const``) are defined once
(``FIELD_RULES``) and applied by both this validator and the models.

Models (generated from the ``.avsc`` by ``enlace records generate``)::

    from bus.records.models import CaseOpened     # the latest version; CaseOpenedV1 for v1
    case = CaseOpened(case_id="CRM-2025-000001", citizen_curp=..., ...)   # or camelCase names
    case.to_avro(); CaseOpened.from_avro(data); case.key()

Constructing a model with a broken type or domain rule raises ``bus.ValidationError``. After
changing a schema run ``enlace records generate`` (the generator is its own door,
``bus.records.generate``); a test fails while ``models.py`` differs from what it generates, and
``RecordType.model`` refuses a model whose schema fingerprint is stale.
"""

from bus.records._by_name import check, from_json, validate
from bus.records._catalog import Catalog, catalog, default_schemas_dir, load_catalog
from bus.records._identifiers import (
    GENERIC_RFCS,
    curp_check_digit,
    curp_problems,
    rfc_check_digit,
    rfc_problems,
    validate_curp,
    validate_rfc,
)
from bus.records._loader import CatalogProblem, SchemaFile, read_schema_files
from bus.records._model_base import RecordModel
from bus.records._record_type import CLASSIFICATIONS, SHARED_NAMESPACE, RecordType, model_class_name
from bus.records._rules import FIELD_RULES

__all__ = [
    "CLASSIFICATIONS",
    "FIELD_RULES",
    "GENERIC_RFCS",
    "SHARED_NAMESPACE",
    "Catalog",
    "CatalogProblem",
    "RecordModel",
    "RecordType",
    "SchemaFile",
    "catalog",
    "check",
    "curp_check_digit",
    "curp_problems",
    "default_schemas_dir",
    "from_json",
    "load_catalog",
    "model_class_name",
    "read_schema_files",
    "rfc_check_digit",
    "rfc_problems",
    "validate",
    "validate_curp",
    "validate_rfc",
]
