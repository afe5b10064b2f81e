"""The agencies on the bus: fiscal services, CRM, citizen portal and transparency."""

__all__: list[str] = []
