"""Owned by helper 'graph' (Run/Step graph); the engine helper owns drivers/.

Models of a site turn-up: a Run per site, its Steps per device and stage, and the console-line
locks that keep one session per line.
"""
