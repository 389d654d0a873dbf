"""Errors of the domain layers."""

from __future__ import annotations

from geo.errors import LvdunError
from layers.i18n import _

__all__ = ["DamagedFileError", "FieldError", "InputError", "LayerError", "ReadError"]


class LayerError(LvdunError):
    """An error about a domain layer."""


class ReadError(LayerError, OSError):
    """A file cannot be opened or is not in a format lvdun reads."""


class DamagedFileError(ReadError):
    """A file is truncated, incomplete or damaged: it is refused whole, nothing is stored.

    The message names the file and what is wrong with it (e.g. a ``.shp`` shorter than its
    ``.shx`` says, a missing ``.dbf``) and says to copy the complete file again.
    """


class InputError(LayerError, ValueError):
    """Input that cannot be used: names the file, row, field and value, and says what to do.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    file, row, field, value
        Where the problem is; any may be None.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.file, self.row, self.field, self.value = file, row, field, value
        place = _("，").join(
            part
            for part in (
                _("文件 {file}").format(file=file) if file else "",
                _("第 {row} 行").format(row=row) if row is not None else "",
                _("字段 {field!r}").format(field=field) if field else "",
                _("值 {value!r}").format(value=value) if value is not None else "",
            )
            if part
        )
        super().__init__(_("{place}：{message}").format(place=place, message=message)
                         if place else message)


class FieldError(InputError):
    """A required field is missing or a field mapping names a column the file lacks."""
