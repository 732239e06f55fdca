"""Benchmark: the who-pays pages against ``/healthz``, on the demo database (in-process).

Uses Django's test client (no HTTP server), logged in as the study team, so the
numbers are the views' own cost: an advisor step (htmx post of three answered
components with the example region matrix), the summary over every funding
map, and the list of maps, each as a median and as a multiple of ``/healthz``
measured in the same run (timings on a shared machine are noisy: read the
ratios).

    ozamonitor web init --data-dir bench-output/funding-web --demo
    python benchmarks/bench_funding_web.py --data-dir bench-output/funding-web
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

FORM = {"components": "3", "components[0].kind": "teaching",
        "components[1].kind": "transport", "components[1].to": "care_location",
        "components[2].kind": "activity", "components[2].activity": "eating/tube_feeding",
        "child.age": "11", "child.enrolled": "true", "child.wlz_indication": "false",
        "child.chronic_condition": "true", "child.care_over_one_year": "true",
        "setting.location": "care_location", "setting.brin": "false", "setting.oza": "true",
        "setting.oza_deviations": ["location", "funding"], "matrix": "example"}


def median_ms(call: Callable[[], Any], n: int) -> float:
    """Median wall time of ``call`` over ``n`` runs after one warm-up, in milliseconds."""
    call()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        resp = call()
        times.append(time.perf_counter() - t)
        if resp.status_code != 200:
            raise SystemExit(f"HTTP {resp.status_code}")
    return statistics.median(times) * 1000


def main() -> None:
    """Parse the options, measure, print one line per page."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True, help="a data folder made with web init --demo")
    ap.add_argument("--user", default="studie")
    ap.add_argument("-n", type=int, default=40, help="requests per page (summary: n/4)")
    args = ap.parse_args()
    os.environ["OZAMONITOR_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ozamonitor.web.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=args.user))
    hx = {"HTTP_HX_REQUEST": "true"}
    ref = median_ms(lambda: client.get("/healthz"), args.n)
    print(f"healthz: {ref:.1f} ms (load average {os.getloadavg()[0]:.1f})")
    pages = {
        "advisor step, 3 components answered": (lambda: client.post("/funding/", FORM, **hx),
                                                args.n),
        "summary over every map": (lambda: client.get("/funding/summary/"), max(args.n // 4, 1)),
        "maps list": (lambda: client.get("/funding/maps/"), max(args.n // 4, 1)),
    }
    for name, (call, n) in pages.items():
        ms = median_ms(call, n)
        print(f"{name}: {ms:.1f} ms ({ms / ref:.1f}x healthz)")


if __name__ == "__main__":
    main()
