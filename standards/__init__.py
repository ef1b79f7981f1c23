"""Machine-readable standard definitions (OneRoster 1.2 / 1.1, Ed-Fi DS 5.1): information models, CSV binding,
validation.

Self-contained on purpose: gateway/ and adapters/ import from here, never the other way round.
"""
from .csvbinding import CsvBinding, CsvColumn, CsvFile, load_csv_binding
from .model import ClassDef, FieldDef, ModelDef, load_model

__all__ = ["load_model", "load_csv_binding", "ModelDef", "ClassDef", "FieldDef", "CsvBinding", "CsvFile",
           "CsvColumn"]
