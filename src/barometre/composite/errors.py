"""The error of the composite build steps."""


class StepError(ValueError):
    """A step that cannot run on the data given; the message names the indicator or unit."""
