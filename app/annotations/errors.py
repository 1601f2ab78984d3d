class SubmitError(ValueError):
    """A refused submit or draft; `status` is the HTTP status a route should answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status
