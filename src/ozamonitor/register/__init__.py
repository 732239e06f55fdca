"""The register: schema, storage, import, validation and pseudonymisation."""

from ozamonitor.register.schema import TABLES, Column, Table
from ozamonitor.register.store import Register, RegisterError, RegisterWriter, write_register

__all__ = ["TABLES", "Column", "Register", "RegisterError", "RegisterWriter", "Table",
           "write_register"]
