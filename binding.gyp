# Builds the native-selectors addon with node-gyp.
# Variables (set by scripts/build.mjs, or `node-gyp rebuild --backend=poll`):
#   backend         ''|epoll|kqueue|poll  the default backend ('' = the platform's best)
#   kqueue_prefix   install prefix of a kqueue compatibility library (libkqueue on Linux)
#   sanitize        1 to build with AddressSanitizer and UndefinedBehaviorSanitizer
#   uring           'true' to build the io_uring ring (ProactorEventLoop); by default 'true' exactly
#                   when `pkg-config --exists liburing` succeeds (Linux); 'false' leaves it out.
#                   (Words, not 0/1: gyp turns a command's digit output into a number.)
{
  "variables": {
    "backend%": "",
    "kqueue_prefix%": "",
    "sanitize%": "0",
    "uring%": "<!(pkg-config --exists liburing 2>/dev/null && echo true || echo false)"
  },
  "targets": [
    {
      "target_name": "native_selectors",
      # The source list, shared with CMakeLists.txt.
      "includes": ["native/sources.gypi"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]
      },
      "conditions": [
        ["OS=='linux'", {"defines": ["NS_HAVE_EPOLL=1"]}],
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", {"defines": ["NS_HAVE_KQUEUE=1"]}],
        ["backend=='kqueue' and OS=='linux'", {
          "defines": ["NS_HAVE_KQUEUE=1"],
          "include_dirs": ["<(kqueue_prefix)/include/kqueue"],
          "libraries": ["-L<(kqueue_prefix)/lib", "-lkqueue", "-Wl,-rpath,<(kqueue_prefix)/lib"]
        }],
        ["uring=='true' and OS=='linux'", {
          "defines": ["NS_HAVE_URING=1"],
          "cflags_cc": ["<!@(pkg-config --cflags liburing)"],
          "libraries": ["<!@(pkg-config --libs liburing)"]
        }],
        ["backend=='epoll'", {"defines": ["NS_DEFAULT_BACKEND_EPOLL=1"]}],
        ["backend=='kqueue'", {"defines": ["NS_DEFAULT_BACKEND_KQUEUE=1"]}],
        ["backend=='poll'", {"defines": ["NS_DEFAULT_BACKEND_POLL=1"]}],
        ["sanitize=='1'", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-O1", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
