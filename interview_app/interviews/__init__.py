"""Mock interviews: the service that runs the flow of `coaching/flow.py`."""
