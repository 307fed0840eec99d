#!/usr/bin/python3
"""Exits 0 when the X cursor at X,Y is fully transparent. Usage: cursor_hidden.py X Y

Moves the pointer to X,Y (over the kiosk window), asks XFixes for
the cursor image actually shown there and checks every pixel's alpha.
"""
import ctypes
import sys
import time


class CursorImage(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_short), ("y", ctypes.c_short),
        ("width", ctypes.c_ushort), ("height", ctypes.c_ushort),
        ("xhot", ctypes.c_ushort), ("yhot", ctypes.c_ushort),
        ("cursor_serial", ctypes.c_ulong),
        ("pixels", ctypes.POINTER(ctypes.c_ulong)),
        ("atom", ctypes.c_ulong), ("name", ctypes.c_char_p),
    ]


x11 = ctypes.CDLL("libX11.so.6")
xfixes = ctypes.CDLL("libXfixes.so.3")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong] + [ctypes.c_int] * 2 + [ctypes.c_uint] * 2 + [ctypes.c_int] * 2
x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
xfixes.XFixesGetCursorImage.restype = ctypes.POINTER(CursorImage)
xfixes.XFixesGetCursorImage.argtypes = [ctypes.c_void_p]

px, py = int(sys.argv[1]), int(sys.argv[2])
d = x11.XOpenDisplay(None)
if not d:
    sys.exit("cannot open the display")
x11.XWarpPointer(d, 0, x11.XDefaultRootWindow(d), 0, 0, 0, 0, px, py)
x11.XSync(d, 0)
time.sleep(0.3)
img = xfixes.XFixesGetCursorImage(d).contents
visible = sum(1 for i in range(img.width * img.height) if (img.pixels[i] >> 24) & 0xFF)
print("  cursor at %d,%d: %dx%d, %d visible pixels" % (px, py, img.width, img.height, visible))
sys.exit(1 if visible else 0)
