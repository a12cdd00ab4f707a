// addon.cc — module initialisation: per-environment state, the environment cleanup hook, the
// constants table and which backends this build has.
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "errors.h"
#include "exports.h"
#include "state.h"
#include "uring.h"

namespace ns {

AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void TrackFd(AddonData* data, int fd) {
  if (data == nullptr || fd < 0) return;
  auto& owned = data->ownedFds;
  if (static_cast<size_t>(fd) >= owned.size()) owned.resize(static_cast<size_t>(fd) * 2 + 64);
  owned[static_cast<size_t>(fd)] = true;
}

void UntrackFd(AddonData* data, int fd) {
  if (data == nullptr || fd < 0) return;
  auto& owned = data->ownedFds;
  if (static_cast<size_t>(fd) < owned.size()) owned[static_cast<size_t>(fd)] = false;
}

void TrackFd(Napi::Env env, int fd) { TrackFd(Data(env), fd); }
void UntrackFd(Napi::Env env, int fd) { UntrackFd(Data(env), fd); }

int CloseFd(int fd) {
  if (close(fd) == 0) return 0;
  // POSIX leaves the fd's state unspecified after EINTR; on Linux and the BSDs it is closed, and a
  // retry could close a number another thread has just been given.
  return errno == EINTR ? 0 : errno;
}

int SetNonBlockCloexec(int fd, bool nonblock) {
  int fdFlags = fcntl(fd, F_GETFD);
  if (fdFlags < 0 || fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) < 0) return errno;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return errno;
  int wanted = nonblock ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0) return errno;
  return 0;
}

namespace {

// Runs when this environment (the main thread at exit, or a worker thread) is torn down: closes
// every fd it created and did not close, and drops its signal watches.
void CleanupEnvironment(AddonData* data) {
  data->tearingDown = true;
  UnwatchAllSignals(data);
  CloseAllRings(data);  // before the fds: a ring waits for its operations on them
  for (size_t fd = 0; fd < data->ownedFds.size(); ++fd)
    if (data->ownedFds[fd]) CloseFd(static_cast<int>(fd));
  data->ownedFds.clear();
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  struct {
    const char* name;
    int value;
  } table[] = {
      {"AF_UNSPEC", AF_UNSPEC},
      {"AF_INET", AF_INET},
      {"AF_INET6", AF_INET6},
      {"AF_UNIX", AF_UNIX},
      {"SOCK_STREAM", SOCK_STREAM},
      {"SOCK_DGRAM", SOCK_DGRAM},
      {"SOCK_SEQPACKET", SOCK_SEQPACKET},
      {"SOCK_RAW", SOCK_RAW},
      {"SOL_SOCKET", SOL_SOCKET},
      {"SO_REUSEADDR", SO_REUSEADDR},
#ifdef SO_REUSEPORT
      {"SO_REUSEPORT", SO_REUSEPORT},
#endif
      {"SO_ERROR", SO_ERROR},
      {"SO_KEEPALIVE", SO_KEEPALIVE},
      {"SO_SNDBUF", SO_SNDBUF},
      {"SO_RCVBUF", SO_RCVBUF},
      {"SO_TYPE", SO_TYPE},
#ifdef SO_DOMAIN
      {"SO_DOMAIN", SO_DOMAIN},
#endif
#ifdef SO_PROTOCOL
      {"SO_PROTOCOL", SO_PROTOCOL},
#endif
      {"SO_LINGER", SO_LINGER},
      {"SO_BROADCAST", SO_BROADCAST},
      {"IPPROTO_TCP", IPPROTO_TCP},
      {"IPPROTO_UDP", IPPROTO_UDP},
      {"IPPROTO_IPV6", IPPROTO_IPV6},
      {"IPV6_V6ONLY", IPV6_V6ONLY},
      {"TCP_NODELAY", TCP_NODELAY},
      {"SHUT_RD", SHUT_RD},
      {"SHUT_WR", SHUT_WR},
      {"SHUT_RDWR", SHUT_RDWR},
      {"MSG_OOB", MSG_OOB},
      {"MSG_PEEK", MSG_PEEK},
      {"MSG_DONTROUTE", MSG_DONTROUTE},
      {"MSG_DONTWAIT", MSG_DONTWAIT},
      {"MSG_EOR", MSG_EOR},
      {"MSG_TRUNC", MSG_TRUNC},
      {"MSG_CTRUNC", MSG_CTRUNC},
      {"MSG_WAITALL", MSG_WAITALL},
#ifdef MSG_NOSIGNAL
      {"MSG_NOSIGNAL", MSG_NOSIGNAL},
#endif
#ifdef MSG_MORE
      {"MSG_MORE", MSG_MORE},
#endif
#ifdef MSG_CONFIRM
      {"MSG_CONFIRM", MSG_CONFIRM},
#endif
#ifdef MSG_ERRQUEUE
      {"MSG_ERRQUEUE", MSG_ERRQUEUE},
#endif
#ifdef MSG_CMSG_CLOEXEC
      {"MSG_CMSG_CLOEXEC", MSG_CMSG_CLOEXEC},
#endif
      {"AI_PASSIVE", AI_PASSIVE},
      {"AI_CANONNAME", AI_CANONNAME},
      {"AI_NUMERICHOST", AI_NUMERICHOST},
      {"AI_NUMERICSERV", AI_NUMERICSERV},
      {"AI_ADDRCONFIG", AI_ADDRCONFIG},
      {"AI_V4MAPPED", AI_V4MAPPED},
      {"AI_ALL", AI_ALL},
      {"SOMAXCONN", SOMAXCONN},
      {"EAGAIN", EAGAIN},
      {"EWOULDBLOCK", EWOULDBLOCK},
      {"EINPROGRESS", EINPROGRESS},
      {"EINTR", EINTR},
      {"EBADF", EBADF},
      {"EINVAL", EINVAL},
      {"EPIPE", EPIPE},
      {"ECONNRESET", ECONNRESET},
      {"ECONNREFUSED", ECONNREFUSED},
      {"ECONNABORTED", ECONNABORTED},
      {"ENOTCONN", ENOTCONN},
      {"EISCONN", EISCONN},
      {"EALREADY", EALREADY},
      {"EMFILE", EMFILE},
      {"ENFILE", ENFILE},
      {"ENOBUFS", ENOBUFS},
      {"ENOMEM", ENOMEM},
      {"EPERM", EPERM},
      {"ENOENT", ENOENT},
      {"EEXIST", EEXIST},
      {"ETIMEDOUT", ETIMEDOUT},
      {"EADDRINUSE", EADDRINUSE},
      {"ENOTSOCK", ENOTSOCK},
      {"ESPIPE", ESPIPE},
      {"EPROTOTYPE", EPROTOTYPE},
  };
  for (auto& e : table) c.Set(e.name, Napi::Number::New(env, e.value));
  return c;
}

const char* DefaultBackend() {
#if defined(NS_DEFAULT_BACKEND_POLL)
  return "poll";
#elif defined(NS_DEFAULT_BACKEND_KQUEUE)
  return "kqueue";
#elif defined(NS_DEFAULT_BACKEND_EPOLL)
  return "epoll";
#elif defined(NS_HAVE_EPOLL)
  return "epoll";
#elif defined(NS_HAVE_KQUEUE)
  return "kqueue";
#else
  return "poll";
#endif
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  // The instance-data finalizer frees `data`; the cleanup hook (which runs first) closes fds.
  env.AddCleanupHook(CleanupEnvironment, data);

  exports.Set("epoll", InitEpollExports(env));
  exports.Set("kqueue", InitKqueueExports(env));
  exports.Set("poll", InitPollExport(env));
  InitPoller(env, exports);
  InitSockets(env, exports);
  InitErrors(env, exports);
  InitWatcher(env, exports);
  InitOwned(env, exports);
  InitSignals(env, exports);
  InitUring(env, exports);
  exports.Set("constants", Constants(env));

  Napi::Object backends = Napi::Object::New(env);
  backends.Set("epoll", Napi::Boolean::New(env, HaveEpoll()));
  backends.Set("kqueue", Napi::Boolean::New(env, HaveKqueue()));
  backends.Set("poll", Napi::Boolean::New(env, true));
  exports.Set("backends", backends);
  exports.Set("defaultBackend", Napi::String::New(env, DefaultBackend()));
  // Whether libuv can watch this backend's own fd (one uv_poll_t per reactor). libkqueue's kqueue
  // fd on Linux is the write end of a private pipe and never becomes readable, so there the
  // attached reactor must watch each registered fd instead.
  Napi::Object watchable = Napi::Object::New(env);
  watchable.Set("epoll", Napi::Boolean::New(env, HaveEpoll()));
#if defined(__linux__)
  watchable.Set("kqueue", Napi::Boolean::New(env, false));
#else
  watchable.Set("kqueue", Napi::Boolean::New(env, HaveKqueue()));
#endif
  watchable.Set("poll", Napi::Boolean::New(env, false));
  // The io_uring fd is readable while completions wait in its queue.
  watchable.Set("uring", Napi::Boolean::New(env, true));
  exports.Set("backendFdWatchable", watchable);
  return exports;
}

}  // namespace ns

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return ns::Init(env, exports); }

NODE_API_MODULE(native_selectors, InitModule)
