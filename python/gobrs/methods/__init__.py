"""The session classes of each refresh method, under boto3-refresh-session's
module paths: ``methods.custom``, ``methods.sts``, ``methods.iot.x509``.

They are defined in :mod:`gobrs.custom`, :mod:`gobrs.sts` and
:mod:`gobrs.iot`; these modules re-export them. The IoT method needs no
extra in gobrs, so ``methods.iot`` is always there.
"""

from __future__ import annotations

__all__ = ["CustomRefreshableSession", "IOTX509RefreshableSession", "STSRefreshableSession"]

from . import custom as custom
from . import iot as iot
from . import sts as sts
from .custom import CustomRefreshableSession
from .iot import IOTX509RefreshableSession
from .sts import STSRefreshableSession
