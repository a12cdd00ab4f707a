# native/sources.gypi — the addon's source files, the one list both builds read: binding.gyp
# includes this file into its target (node-gyp makes the paths relative to binding.gyp), and
# CMakeLists.txt takes every double-quoted name ending in .cc from this text (so a comment here
# must not quote one).
{
  "sources": [
    "addon.cc",
    "errors.cc",
    "args.cc",
    "backend_poll.cc",
    "backend_epoll.cc",
    "backend_kqueue.cc",
    "poller.cc",
    "sockets.cc",
    "watcher.cc",
    "owned.cc",
    "signals.cc",
    "uring.cc"
  ]
}
