"""The DuckDB warehouse: schema, named queries and the one door to the file."""

from warehouse.db import Warehouse, WarehouseBusy, WarehouseError

__all__ = ["Warehouse", "WarehouseBusy", "WarehouseError"]
