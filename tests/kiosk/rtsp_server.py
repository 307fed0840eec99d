#!/usr/bin/python3
"""A loopback RTSP "camera" server for the kiosk tests.

Usage: rtsp_server.py [--size WxH] [--fps N] PORT NAME=RGB|NAME=moving [...]
Serves rtsp://127.0.0.1:PORT/NAME as H.264, by default 1280x720 at 25 fps, 2 Mbit/s
(the appliance test in qemu asks for less: its emulated CPU decodes slowly): either a solid
colour (0xRRGGBB), so a screenshot can tell every camera's tile apart, or "moving", a
scrolling test card whose decoding costs about what a real camera's does (for benchmarks).
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
args = sys.argv[1:]
size, fps = "1280x720", "25"
while args and args[0].startswith("--"):
    if len(args) < 2 or args[0] not in ("--size", "--fps"):
        sys.exit(__doc__)
    if args[0] == "--size":
        size = args[1]
    else:
        fps = args[1]
    args = args[2:]
width, height = size.split("x")
port = args[0]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
mounts = server.get_mount_points()
for spec in args[1:]:
    name, what = spec.split("=")
    if what == "moving":
        source = "videotestsrc is-live=true pattern=smpte horizontal-speed=3 ! timeoverlay font-desc=\"Sans 48\""
    else:
        source = "videotestsrc is-live=true pattern=solid-color foreground-color=0xff%s" % what
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( %s "
        "! video/x-raw,width=%s,height=%s,framerate=%s/1 "
        # A key frame every second, so a viewer that joins starts within a second.
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%s bitrate=2000 "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )" % (source, width, height, fps, fps)
    )
    factory.set_shared(True)
    mounts.add_factory("/" + name, factory)
if server.attach(None) == 0:
    sys.exit("cannot listen on 127.0.0.1:%s" % port)
print("rtsp server on 127.0.0.1:%s" % port, flush=True)
GLib.MainLoop().run()
