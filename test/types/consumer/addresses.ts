// Address shapes by family, and the other typings users rely on, without casts. Type-checked by
// test/types.test.ts, never run.
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  EpollSelector,
  KqueueSelector,
  PollSelector,
  SOCK_DGRAM,
  Socket,
  socketpair,
  type SelectorKey,
  type SocketAddress,
  type SocketType,
} from "native-selectors";

// AF_INET, by default: [host, port].
using tcp = new Socket();
tcp.bind(["127.0.0.1", 0]);
const [host, port] = tcp.getsockname();
export const inet: [string, number] = [host, port];
export const peerPort: number = tcp.getpeername()[1];
const [accepted, from] = tcp.accept();
export const acceptedPort: number = from[1];
export const acceptedIsInet: Socket<AF_INET> = accepted;

// UDP on AF_INET: recvfrom's address goes back to sendto as it is.
using udp = new Socket(AF_INET, SOCK_DGRAM);
const [data, sender] = udp.recvfrom(1024);
if (sender !== null) udp.sendto(data, sender);

// AF_INET6: [host, port, flowinfo, scopeId].
using six = new Socket(AF_INET6);
six.bind(["::1", 0]);
six.bind(["::1", 0, 0, 0]);
const [host6, port6, flowinfo, scopeId] = six.getsockname();
export const inet6: [string, number, number, number] = [host6, port6, flowinfo, scopeId];

// AF_UNIX: a path.
using unix = new Socket(AF_UNIX);
unix.bind("/tmp/example.sock");
export const path: string = unix.getsockname();
const [a, b] = socketpair();
export const pairPath: string = a.getpeername();

// A family known only as a number: the SocketAddress union, and any address shape accepted.
const family: number = tcp.family;
using anyFamily = new Socket(family);
export const anyAddress: SocketAddress = anyFamily.getsockname();
anyFamily.bind(["127.0.0.1", 0]);
anyFamily.bind("/tmp/other.sock");

// Every socket fits the plain Socket type, and SocketType is the same type.
export const sockets: Socket[] = [tcp, six, unix, a, b, anyFamily];
export const sameType: SocketType<AF_INET> = tcp;
export const fromSameType: Socket<AF_INET> = sameType;

// Selectors: DefaultSelector has fileno(), as EpollSelector and KqueueSelector do.
using sel = new DefaultSelector();
export const selectorFd: number = sel.fileno();
export function backendFd(selector: EpollSelector | KqueueSelector): number {
  return selector.fileno();
}

// Data optional where undefined is a valid data value, required where it is not.
sel.register(tcp, EVENT_READ);
sel.modify(tcp, EVENT_WRITE);
using named = new DefaultSelector<string | undefined, Socket>();
named.register(six, EVENT_READ);
using handlers = new DefaultSelector<(mask: number) => void, Socket>();
const key: SelectorKey<(mask: number) => void, Socket> = handlers.register(unix, EVENT_READ, (mask) => console.log(mask));
key.data(EVENT_READ);
handlers.modify(unix, EVENT_READ | EVENT_WRITE, (mask) => console.log("again", mask));
using poll = new PollSelector<number>();
poll.register(a, EVENT_READ, 1);

// Generic code over the data type still passes its data.
export function registerWith<D>(selector: DefaultSelector<D, Socket>, sock: Socket, data: D): void {
  selector.register(sock, EVENT_READ, data);
  selector.modify(sock, EVENT_READ | EVENT_WRITE, data);
}
