"""Connector libraries: how an agency system joins the bus."""

__all__: list[str] = []
