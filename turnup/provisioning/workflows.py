"""Owned by helper 'graph' (Run/Step graph); the engine helper owns drivers/.

The only place that builds Celery canvases: a site's turn-up graph.
"""
