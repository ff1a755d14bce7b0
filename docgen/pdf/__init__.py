"""PDF books and certificates: the 荷载计算书 and the documents described by JSON templates.

Every PDF embeds its one TrueType CJK font, numbers its pages "第 x 页 共 y 页" and carries the
verification QR drawn as vector rectangles. Must not: store, sign or hash documents (the issuing
service does), or use a non-embedded font.
"""

from docgen.pdf.calcbook import load_calculation
from docgen.pdf.engine import (
    construction_permit,
    fire_acceptance_record,
    render,
    render_template,
    sample_data,
    templates,
    utility_service_sheet,
)
from docgen.pdf.template import TemplateInvalid

__all__ = [
    "TemplateInvalid",
    "construction_permit",
    "fire_acceptance_record",
    "load_calculation",
    "render",
    "render_template",
    "sample_data",
    "templates",
    "utility_service_sheet",
]
