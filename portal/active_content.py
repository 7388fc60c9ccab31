"""Finding what a PDF reader would run or open by itself in a PDF: scripts, programs, other files.

A result is stored and served as its original, and the holder opens it in whatever reader they
have, so a scan that carries an action the reader would carry out (a script, a program to launch,
a form sent to an outside address) is refused at upload and import (portal/scans.py).

What is refused, and why (a scan of a paper result needs none of it):
- JavaScript, anywhere a reader runs it: the catalog's /OpenAction and /AA, the /Names
  /JavaScript tree, page and annotation /AA and /A, form fields, bookmarks, the /Next of any
  action; and XFA forms, whose scripts Acrobat runs;
- /Launch (starts a program or opens a file), /SubmitForm (sends the form's data, and the reader's
  address, to a URL), /ImportData (reads a file into the form), /GoToR and /GoToE (open another
  PDF: a network path leaks the Windows credentials of whoever opens it), /Rendition, /Movie,
  /Sound, /GoTo3DView and /RichMediaExecute (media players, which carry scripts of their own), and
  any action type not listed as allowed below;
- /RichMedia, /Movie, /Sound, /Screen and /3D annotations (Flash, video and 3D players);
- embedded files (/Names /EmbeddedFiles, file attachment annotations, /AF associated files): a
  file inside the file, served with it unchecked, that a reader offers to open; no page shows it,
  and neither the previews nor a certified copy carry it.

Allowed: moving inside the document (/GoTo, /Named, /Thread, /Trans, /SetOCGState, /Hide), and
/URI when the reader asks for a click (a link or a bookmark) — a born-digital licence may link to
the department's site — but not as something done on opening or on any other event (/OpenAction,
/AA), which would open a browser, or tell someone the file was opened, without being asked.

PDFium (which reads the pages and text in scans.py) cannot say what the catalog's /OpenAction or
/AA hold, so qpdf (pikepdf) reads the document's structure: the catalog, the page dictionaries and
their annotations, the forms and bookmarks, never a content stream or an image. Measured: 0.08 ms
for a one-page scan, 0.35 ms for 20 pages of 300 dpi images (47 MB), 0.8 ms for 50 text pages,
against 1, 9 and 12 ms for PDFium's read of the same files.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf

ALLOWED_ACTIONS = frozenset({"/GoTo", "/Named", "/Thread", "/Trans", "/SetOCGState", "/Hide", "/URI"})
ALLOWED_AUTOMATIC_ACTIONS = ALLOWED_ACTIONS - {"/URI"}
ACTION_LABELS = {
    "/JavaScript": "mã JavaScript",
    "/Launch": "lệnh mở chương trình hoặc tệp khác (Launch)",
    "/SubmitForm": "lệnh gửi dữ liệu ra địa chỉ bên ngoài (SubmitForm)",
    "/ImportData": "lệnh nạp dữ liệu từ tệp khác (ImportData)",
    "/GoToR": "liên kết mở tệp PDF khác (GoToR)",
    "/GoToE": "liên kết mở tệp nhúng (GoToE)",
    "/URI": "lệnh tự mở địa chỉ web (không cần bấm)",
}
MEDIA_ANNOTATIONS = frozenset({"/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"})
EMBEDDED = "tệp đính kèm bên trong"
XFA = "biểu mẫu XFA (có thể chứa mã chạy)"
MEDIA = "nội dung đa phương tiện (video, âm thanh, Flash, 3D)"
MAX_OBJECTS = 200_000  # dictionaries looked at; a scan has a few per page


class ActiveContent(Exception):
    """str() says what was found, in Vietnamese (a fragment: «Tệp PDF có ...»)."""


def find_active_content(path: Path) -> str | None:
    """What a reader would run or open by itself in this PDF (Vietnamese), or None. Raises
    pikepdf.PdfError when qpdf cannot read the file's structure."""
    with pikepdf.open(path) as pdf:
        try:
            _Walk().document(pdf)
        except ActiveContent as found:
            return str(found)
    return None


class _Walk:
    def __init__(self):
        self.seen: set[tuple] = set()
        self.count = 0

    def first_visit(self, obj, how: object = None) -> bool:
        """False for an indirect object already looked at (cycles, shared objects) the same way:
        an action shared by a link and an event is looked at as both."""
        self.count += 1
        if self.count > MAX_OBJECTS:
            raise ActiveContent("cấu trúc quá phức tạp để kiểm tra")
        if obj.is_indirect:
            if (obj.objgen, how) in self.seen:
                return False
            self.seen.add((obj.objgen, how))
        return True

    def document(self, pdf) -> None:
        root = pdf.Root
        self.action(root.get("/OpenAction"), automatic=True)
        self.triggers(root.get("/AA"))
        names = _dictionary(root.get("/Names"))
        if names is not None:
            if _name_tree_has_entries(names.get("/JavaScript")):
                raise ActiveContent(ACTION_LABELS["/JavaScript"])
            if _name_tree_has_entries(names.get("/EmbeddedFiles")):
                raise ActiveContent(EMBEDDED)
        if "/AF" in root or "/Collection" in root:
            raise ActiveContent(EMBEDDED)
        form = _dictionary(root.get("/AcroForm"))
        if form is not None:
            if "/XFA" in form:
                raise ActiveContent(XFA)
            self.fields(form.get("/Fields"))
        outlines = _dictionary(root.get("/Outlines"))
        if outlines is not None:
            self.outline_items(outlines.get("/First"))
        for page in pdf.pages:
            self.page(page.obj)

    def page(self, page) -> None:
        self.triggers(page.get("/AA"))
        if "/AF" in page:
            raise ActiveContent(EMBEDDED)
        annotations = page.get("/Annots")
        if isinstance(annotations, pikepdf.Array):
            for annotation in annotations:
                self.annotation(annotation)

    def annotation(self, annotation) -> None:
        annotation = _dictionary(annotation)
        if annotation is None or not self.first_visit(annotation):
            return
        subtype = str(annotation.get("/Subtype", ""))
        if subtype == "/FileAttachment" or "/AF" in annotation:
            raise ActiveContent(EMBEDDED)
        if subtype in MEDIA_ANNOTATIONS:
            raise ActiveContent(MEDIA)
        self.action(annotation.get("/A"), automatic=False)
        self.triggers(annotation.get("/AA"))

    def fields(self, fields) -> None:
        """The form's fields and their kids (a stack, not recursion: a hostile file nests deep)."""
        stack = [fields]
        while stack:
            item = stack.pop()
            if isinstance(item, pikepdf.Array):
                stack.extend(item)
                continue
            item = _dictionary(item)
            if item is None or not self.first_visit(item):
                continue
            self.action(item.get("/A"), automatic=False)
            self.triggers(item.get("/AA"))
            stack.append(item.get("/Kids"))

    def outline_items(self, first) -> None:
        """Bookmarks: each item, its children (/First) and the ones after it (/Next)."""
        stack = [first]
        while stack:
            item = _dictionary(stack.pop())
            if item is None or not self.first_visit(item):
                continue
            self.action(item.get("/A"), automatic=False)
            stack += [item.get("/Next"), item.get("/First")]

    def triggers(self, additional_actions) -> None:
        """An /AA dictionary: every action in it runs on an event (opening, closing, focus...)."""
        additional_actions = _dictionary(additional_actions)
        if additional_actions is None:
            return
        for _event, action in additional_actions.items():
            self.action(action, automatic=True)

    def action(self, first, *, automatic: bool) -> None:
        """An action dictionary and the ones it chains to (/Next: one, or an array); a
        destination (an array or a name, as /OpenAction often is) does nothing but go to a page."""
        allowed = ALLOWED_AUTOMATIC_ACTIONS if automatic else ALLOWED_ACTIONS
        stack = [first]
        while stack:
            action = stack.pop()
            if isinstance(action, pikepdf.Array):
                stack.extend(item for item in action if isinstance(item, pikepdf.Dictionary))
                continue
            if not isinstance(action, pikepdf.Dictionary) or not self.first_visit(action, automatic):
                continue
            kind = action.get("/S")
            kind = str(kind) if isinstance(kind, pikepdf.Name) else None
            if "/JS" in action or kind == "/JavaScript":
                raise ActiveContent(ACTION_LABELS["/JavaScript"])
            if kind is not None and kind not in allowed:
                raise ActiveContent(ACTION_LABELS.get(kind, f"hành động «{kind[1:][:40]}»"))
            stack.append(action.get("/Next"))


def _dictionary(obj) -> pikepdf.Dictionary | None:
    return obj if isinstance(obj, pikepdf.Dictionary) else None


def _name_tree_has_entries(tree) -> bool:
    tree = _dictionary(tree)
    if tree is None:
        return False
    names, kids = tree.get("/Names"), tree.get("/Kids")
    return bool((names is not None and len(names)) or (kids is not None and len(kids)))
