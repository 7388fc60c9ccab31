"""Real PDFs carrying each kind of action a reader would run or open: a clean scan (a PDF of the
`pdfs` fixture) with one thing added by qpdf (pikepdf), as a hostile writer would add it."""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name, String

SCRIPT = "app.alert('Xin chào');"


def _javascript(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return pdf.make_indirect(Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(SCRIPT)))


def _link(pdf: pikepdf.Pdf, action: Dictionary, **extra) -> None:
    annotation = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([50, 50, 200, 80]), Border=Array([0, 0, 0]),
                            A=action, **extra)
    page = pdf.pages[0].obj
    page.Annots = Array([pdf.make_indirect(annotation)])


def _outline_item(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=1))
    item = pdf.make_indirect(Dictionary(Title=String("Trang 1"), Parent=outlines, A=action))
    outlines.First = outlines.Last = item
    pdf.Root.Outlines = outlines


def _embedded_file(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["ghi-chu.txt"] = pikepdf.AttachedFileSpec(pdf, b"noi dung dinh kem", mime_type="text/plain")


def _file_attachment_annotation(pdf: pikepdf.Pdf) -> None:
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ not really a program", filename="chuong-trinh.exe")
    annotation = Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([50, 50, 70, 70]),
                            FS=spec.obj, Contents=String("Mở tôi"))
    pdf.pages[0].obj.Annots = Array([pdf.make_indirect(annotation)])


def _form_field_with_script(pdf: pikepdf.Pdf) -> None:
    field = pdf.make_indirect(Dictionary(FT=Name.Tx, T=String("ho_ten"), AA=Dictionary(K=_javascript(pdf))))
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]))


def _rich_media(pdf: pikepdf.Pdf) -> None:
    annotation = Dictionary(Type=Name.Annot, Subtype=Name.RichMedia, Rect=Array([50, 50, 300, 300]),
                            RichMediaContent=Dictionary(Assets=Dictionary(Names=Array([]))))
    pdf.pages[0].obj.Annots = Array([pdf.make_indirect(annotation)])


def _names_javascript(pdf: pikepdf.Pdf) -> None:
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("chao"), _javascript(pdf)])))


def _uri_shared_by_a_link_and_an_event(pdf: pikepdf.Pdf) -> None:
    """One action object: a link's (a click, allowed) and the page's opening (not)."""
    uri = pdf.make_indirect(Dictionary(S=Name.URI, URI=String("http://x.test/da-mo")))
    _link(pdf, uri)
    pdf.pages[0].obj.AA = Dictionary(O=uri)


def deep(pdf: pikepdf.Pdf, depth: int, last: Dictionary | None = None) -> None:
    """Bookmarks nested `depth` deep, and a chain of `depth` go-to actions on opening, whose
    last one is `last` (a reader that recursed over them would fail before the end)."""
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines))
    parent = outlines
    for n in range(depth):
        item = pdf.make_indirect(Dictionary(Title=String(f"Mục {n}"), Parent=parent,
                                            Dest=Array([pdf.pages[0].obj, Name.Fit])))
        parent.First = parent.Last = item
        parent = item
    pdf.Root.Outlines = outlines
    chain = last
    for _n in range(depth):
        step = Dictionary(S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]))
        if chain is not None:
            step.Next = chain
        chain = pdf.make_indirect(step)
    pdf.Root.OpenAction = chain


def _chained(pdf: pikepdf.Pdf) -> None:
    """A harmless go-to on opening whose /Next runs a script."""
    pdf.Root.OpenAction = Dictionary(S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]), Next=_javascript(pdf))


ACTIONS = {
    "open-action-javascript": lambda pdf: setattr(pdf.Root, "OpenAction", _javascript(pdf)),
    "catalog-aa-javascript": lambda pdf: setattr(pdf.Root, "AA", Dictionary(WC=_javascript(pdf))),
    "names-javascript": _names_javascript,
    "page-aa-javascript": lambda pdf: setattr(pdf.pages[0].obj, "AA", Dictionary(O=_javascript(pdf))),
    "link-javascript": lambda pdf: _link(pdf, _javascript(pdf)),
    "annotation-aa-javascript": lambda pdf: _link(pdf, Dictionary(S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit])),
                                                  AA=Dictionary(E=_javascript(pdf))),
    "form-field-javascript": _form_field_with_script,
    "bookmark-javascript": lambda pdf: _outline_item(pdf, _javascript(pdf)),
    "next-javascript": _chained,
    "launch": lambda pdf: _link(pdf, Dictionary(S=Name.Launch, F=String("C:\\Windows\\System32\\calc.exe"))),
    "submit-form": lambda pdf: _link(pdf, Dictionary(S=Name.SubmitForm, F=Dictionary(FS=Name.URL,
                                                                                    F=String("http://x.test/")))),
    "import-data": lambda pdf: _link(pdf, Dictionary(S=Name.ImportData, F=String("du-lieu.fdf"))),
    "goto-remote": lambda pdf: _link(pdf, Dictionary(S=Name.GoToR, F=String("\\\\may-chu\\chia-se\\a.pdf"),
                                                     D=Array([0, Name.Fit]))),
    "uri-on-open": lambda pdf: setattr(pdf.Root, "OpenAction", Dictionary(S=Name.URI, URI=String("http://x.test/"))),
    "uri-shared-by-a-link-and-an-event": _uri_shared_by_a_link_and_an_event,
    "deep-chain-ending-in-javascript": lambda pdf: deep(pdf, 5000, _javascript(pdf)),
    "rich-media": _rich_media,
    "embedded-file": _embedded_file,
    "file-attachment-annotation": _file_attachment_annotation,
    "xfa": lambda pdf: setattr(pdf.Root, "AcroForm", Dictionary(Fields=Array([]), XFA=pdf.make_stream(b"<xdp/>"))),
}

HARMLESS = {
    "open-at-page-one": lambda pdf: setattr(pdf.Root, "OpenAction", Array([pdf.pages[0].obj, Name.Fit])),
    "link-to-a-website": lambda pdf: _link(pdf, Dictionary(S=Name.URI, URI=String("https://skhcn.quangngai.gov.vn/"))),
    "bookmark-to-page-one": lambda pdf: _outline_item(pdf, Dictionary(S=Name.GoTo,
                                                                      D=Array([pdf.pages[0].obj, Name.Fit]))),
    "deep-bookmarks-and-chain": lambda pdf: deep(pdf, 5000),
}


def with_action(clean: bytes, kind: str, *, object_streams: bool = False) -> bytes:
    """`clean` with one action of `kind` (a key of ACTIONS or HARMLESS) added. With object
    streams, the objects are written compressed, where a search of the file's bytes finds nothing."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        {**ACTIONS, **HARMLESS}[kind](pdf)
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate if object_streams
                 else pikepdf.ObjectStreamMode.disable)
    return out.getvalue()
