"""HTML to PDF: the one WeasyPrint call, shared by the receipts and the written opinion.

Every glyph comes from the system's fonts (Debian's Noto Sans CJK JP, fonts-noto-cjk), embedded as
a subset. Nothing is fetched and nothing is written to disk: the PDF is built in memory.
"""

from PIL import ImageFile
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

# Importing WeasyPrint tells Pillow, for the whole process, to accept truncated images. Our PDFs
# hold no raster images, and the documents' content check must keep refusing a truncated JPEG.
ImageFile.LOAD_TRUNCATED_IMAGES = False


def html_to_pdf(html: str, css: str) -> bytes:
    """The one WeasyPrint call. It fetches nothing (no protocol is allowed): the document is
    its text and the system's fonts."""
    fetcher = URLFetcher(allowed_protocols=())
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[CSS(string=css, url_fetcher=fetcher)]
    )
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf
