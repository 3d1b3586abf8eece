"""Named exceptions. Library code raises these; the CLI and the flow translate them for people."""


class ReportminerError(Exception):
    """Base class of every error reportminer raises on purpose."""


class InputError(ReportminerError):
    """A document or input file cannot be read or parsed."""


class CodebookError(InputError):
    """A theme codebook cannot be used; the message starts with ``FILE:LINE:``."""


class ModelError(ReportminerError):
    """No usable spaCy pipeline could be loaded."""


class OutputError(ReportminerError):
    """The output folder cannot be written or read."""


class QueryError(ReportminerError):
    """A query of the outputs is malformed: unknown label or theme, bad date, refused or failing SQL."""
