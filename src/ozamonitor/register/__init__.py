"""The register: schema, storage, import, validation and pseudonymisation.

>>> from ozamonitor.register import Register, validate_register   # doctest: +SKIP
>>> problems = validate_register("reg")                            # doctest: +SKIP
"""

from ozamonitor.register.importer import import_register
from ozamonitor.register.info import register_info
from ozamonitor.register.pseudonym import elfproef, pseudonymise
from ozamonitor.register.schema import TABLES, Column, Table
from ozamonitor.register.store import Register, RegisterError, RegisterWriter, write_register
from ozamonitor.register.validate import Problem, ValidationReport, validate_register

__all__ = [
    "TABLES",
    "Column",
    "Problem",
    "Register",
    "RegisterError",
    "RegisterWriter",
    "Table",
    "ValidationReport",
    "elfproef",
    "import_register",
    "pseudonymise",
    "register_info",
    "validate_register",
    "write_register",
]
