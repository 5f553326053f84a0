"""Serving and monitoring of one environment, built from parts only it uses.

- endpoints.py: the Serving component (endpoints, their permissions), which composes the others, and the
  area's stack outputs;
- monitoring.py: a Lakehouse monitor per monitored endpoint;
- alerts.py: drift alerts and their notification destinations;
- retraining.py: the drift -> retrain job per monitored endpoint.
"""

from infra.components.serving.endpoints import Serving, ServingArgs, serving_outputs

__all__ = ["Serving", "ServingArgs", "serving_outputs"]
