"""Limits every file a user sends is held to before it is kept, downloaded or read.

* Attachments of messages and classroom materials: at most :data:`ATTACHMENT_MAX_BYTES`
  (what Telegram lets a bot download), and no program or script, told by the extension and
  by the MIME type the sender's app declared.
* Archives (.docx and .xlsx are zip files): the sum of the members' declared sizes is capped
  close to the upload's own cap, each big member's compression ratio is capped, and the
  members are then inflated once, chunk by chunk, counting the bytes really produced, so a
  header that lies about the size is caught as well.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
# A member that inflates more than this many times, and to more than a megabyte, is a bomb:
# Word and Excel XML compresses five to twenty times.
MAX_COMPRESSION_RATIO = 100
_RATIO_FLOOR_BYTES = 1024 * 1024
MAX_ARCHIVE_MEMBERS = 2000
_CHUNK = 64 * 1024

EXECUTABLE_SUFFIXES = frozenset(
    {
        ".apk", ".app", ".appx", ".bat", ".bin", ".cmd", ".com", ".cpl", ".deb", ".dll",
        ".dmg", ".elf", ".exe", ".gadget", ".hta", ".inf", ".ipa", ".jar", ".js", ".jse",
        ".ksh", ".lnk", ".msc", ".msi", ".msix", ".msp", ".pif", ".pkg", ".ps1", ".psm1",
        ".py", ".pyw", ".reg", ".rpm", ".run", ".scr", ".sh", ".sys", ".vb", ".vbe",
        ".vbs", ".ws", ".wsf", ".wsh",
    }
)  # fmt: skip
EXECUTABLE_MIME_TYPES = frozenset(
    {
        "application/bat",
        "application/ecmascript",
        "application/hta",
        "application/java-archive",
        "application/javascript",
        "application/vnd.android.package-archive",
        "application/vnd.microsoft.portable-executable",
        "application/x-apple-diskimage",
        "application/x-bat",
        "application/x-dosexec",
        "application/x-elf",
        "application/x-executable",
        "application/x-msdos-program",
        "application/x-msdownload",
        "application/x-msi",
        "application/x-ms-installer",
        "application/x-ms-shortcut",
        "application/x-powershell",
        "application/x-sh",
        "application/x-shellscript",
        "application/x-vbscript",
        "text/javascript",
        "text/vbscript",
        "text/x-python",
        "text/x-sh",
        "text/x-shellscript",
    }
)


def attachment_refusal(
    file_name: str | None, mime_type: str | None, file_size: int | None
) -> str | None:
    """Why a sent file cannot be attached (``too_big``, ``executable``), or ``None``."""
    if file_size is not None and file_size > ATTACHMENT_MAX_BYTES:
        return "too_big"
    # The last suffix is what a computer runs the file by ("report.pdf.exe" is a program,
    # "site.com.pdf" a PDF); Windows ignores trailing dots and spaces ("setup.exe. ").
    suffix = PurePath((file_name or "").strip().rstrip(". ") or "x").suffix.casefold()
    if suffix in EXECUTABLE_SUFFIXES:
        return "executable"
    if (mime_type or "").split(";")[0].strip().casefold() in EXECUTABLE_MIME_TYPES:
        return "executable"
    return None


class ArchiveProblem(Exception):
    """A zip upload that must not be inflated; ``reason`` is ``not_zip`` or ``too_large``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_archive(data: bytes, max_unpacked: int) -> None:
    """Refuse a zip file that would inflate beyond ``max_unpacked`` bytes in all.

    :raises ArchiveProblem: when the archive is not a zip file or is too big unpacked.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise ArchiveProblem("too_large")
            if sum(info.file_size for info in members) > max_unpacked:
                raise ArchiveProblem("too_large")
            for info in members:
                if (
                    info.file_size > _RATIO_FLOOR_BYTES
                    and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
                ):
                    raise ArchiveProblem("too_large")
            produced = 0
            for info in members:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        produced += len(chunk)
                        if produced > max_unpacked:
                            raise ArchiveProblem("too_large")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise ArchiveProblem("not_zip") from exc
    except NotImplementedError as exc:  # a compression method zipfile cannot inflate
        raise ArchiveProblem("not_zip") from exc


__all__ = [
    "ATTACHMENT_MAX_BYTES",
    "EXECUTABLE_MIME_TYPES",
    "EXECUTABLE_SUFFIXES",
    "MAX_COMPRESSION_RATIO",
    "ArchiveProblem",
    "attachment_refusal",
    "check_archive",
]
