"""Topic names and the outbox relay's pace. Other systems subscribe to and write these names:
change one only together with them."""

# -- what turnup publishes (key: the site's name, so one site's events stay in order) ------
TOPIC_SITE_STATUS = "turnup.site.status"  # a site moved from one status to another
TOPIC_DEVICE_TURNED_UP = "turnup.device.turned-up"  # a router is verified and archived
TOPIC_RUN_FINISHED = "turnup.run.finished"  # a site's turn-up ended, with its result

OUTBOUND_TOPICS = (TOPIC_SITE_STATUS, TOPIC_DEVICE_TURNED_UP, TOPIC_RUN_FINISHED)

# -- what turnup consumes ---------------------------------------------------------------------
TOPIC_HARDWARE_DELIVERED = "inventory.hardware.delivered"  # a router arrived at its site
TOPIC_SITE_READY = "facilities.site.ready"  # racks, power and cross-connects are done

INBOUND_TOPICS = (TOPIC_HARDWARE_DELIVERED, TOPIC_SITE_READY)

#: How often the relay looks for unpublished events, and how many it sends at once.
OUTBOX_POLL_SECONDS = 1.0
OUTBOX_BATCH = 200

#: How long a message that could not be recorded (database away) waits before it is tried again.
INBOUND_RETRY_SECONDS = 5.0

#: How much of an inbound message's text a rejected one keeps.
INBOUND_KEPT_CHARS = 4000
