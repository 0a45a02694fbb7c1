"""Parses Prometheus text exposition from stdin with the official client library's parser
(prometheus_client.parser) and prints the families as JSON, for tests/api/metrics.rs.

Exit 3 when prometheus_client is missing, so the test can tell that from a parse error."""

import json
import math
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit(3)


def value(v):
    # JSON has no inf/nan; keep them as text.
    return v if math.isfinite(v) else str(v)


families = [
    {
        "name": family.name,
        "type": family.type,
        "documentation": family.documentation,
        "samples": [
            {"name": s.name, "labels": s.labels, "value": value(s.value)}
            for s in family.samples
        ],
    }
    for family in text_string_to_metric_families(sys.stdin.read())
]
json.dump(families, sys.stdout)
