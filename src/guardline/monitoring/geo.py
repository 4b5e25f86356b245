"""Where an address is, offline: GeoLite2-City from the maxminddb-geolite2 package, never a network lookup.

The shipped database is MaxMind's 2018 GeoLite2-City (the newest one a package on PyPI carries with
coordinates; geoip2fast's bundled file has countries only). Addresses move between networks over the
years, so a location comes with its accuracy radius and the travel rule subtracts it; private,
loopback, link-local and reserved addresses have no location and never count as travel.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import threading
from dataclasses import dataclass
from typing import Any, Protocol

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    accuracy_km: float
    country: str | None


class Locator(Protocol):
    def locate(self, address: str) -> Location | None: ...


def distance_km(a: Location, b: Location) -> float:
    """Great-circle (haversine) distance."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


class GeoLite2Locator:
    """Lookups in the packaged GeoLite2-City file (memory-mapped, opened on first use, cached)."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path
        self._reader: Any = None
        self._lock = threading.Lock()
        self._cached = functools.lru_cache(maxsize=8192)(self._lookup)

    def _open(self) -> Any:
        with self._lock:
            if self._reader is None:
                import maxminddb  # imported lazily: only the travel rule needs it

                path = self._path
                if path is None:
                    from _maxminddb_geolite2 import geolite2_database  # the packaged .mmdb

                    path = str(geolite2_database())
                self._reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
            return self._reader

    def _lookup(self, address: str) -> Location | None:
        if not is_public(address):
            return None
        record = (self._reader or self._open()).get(address)
        if not isinstance(record, dict):
            return None
        where = record.get("location") or {}
        lat, lon = where.get("latitude"), where.get("longitude")
        if lat is None or lon is None:
            return None
        country = (record.get("country") or {}).get("iso_code")
        return Location(float(lat), float(lon), float(where.get("accuracy_radius") or 0), country)

    def locate(self, address: str) -> Location | None:
        return self._cached(address)


@functools.cache
def default_locator() -> GeoLite2Locator:
    return GeoLite2Locator()
