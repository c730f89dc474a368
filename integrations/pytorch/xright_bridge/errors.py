"""Errors as values with context: the file, the record or field, what was expected and what was found."""


class BridgeError(Exception):
    """A problem the user can fix; printed once, at the edge (the CLI), without a traceback."""

    def __init__(self, where, message):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class DataError(BridgeError):
    """A data file that cannot be read as asked: `where` names the file and the record (line or array index)."""


class SettingError(BridgeError):
    """An option that cannot run (`where` names the option)."""
