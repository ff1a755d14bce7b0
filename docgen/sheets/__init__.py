"""Drawing sheets (DXF, A1, GB/T 50001): the general-description sets 建筑设计总说明 and 结构设计总说明.

`frame` draws the paper, frame and title block; `flow` lays notes out in balanced columns over as
many sheets as needed; `content` turns the `bim_building` form's data into those notes; `notes`
assembles the DXF and its preview. Must not: store or sign anything, or import the server's
database or HTTP layers.
"""

from docgen.sheets.notes import architecture_notes, structure_notes

__all__ = ["architecture_notes", "structure_notes"]
