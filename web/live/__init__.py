"""Live pages: the one websocket fan-out hub (hub.py, client.py, frames.py) that feeds every live
page, and the broker pages' socket (broker_feed.py). The event-loop page's feed is web/loop/feed.py.
"""
