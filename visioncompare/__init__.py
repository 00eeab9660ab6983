"""VisionCompare's services: what the command line and the pages share."""
