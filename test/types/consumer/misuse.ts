// Misuse that must not type-check: each line below an @ts-expect-error has to be an error, or
// tsc reports the directive as unused (TS2578) and the test fails. Type-checked, never run.
import { AF_UNIX, DefaultSelector, EVENT_READ, PollSelector, Socket, getRunningLoop, socketpair, type SelectorKey } from "native-selectors";

type Handler = (sock: Socket, mask: number) => void;
const sel = new DefaultSelector<Handler, Socket>();
const sock = new Socket();

// register() without data when the data is a handler: key.data(...) would throw at run time.
// @ts-expect-error data required
sel.register(sock, EVENT_READ);
// modify() without data would set the data to undefined.
// @ts-expect-error data required
sel.modify(sock, EVENT_READ);
// Data of the wrong type.
// @ts-expect-error a string is not a Handler
sel.register(sock, EVENT_READ, "accept");

// getsockname()[1] on an AF_INET socket is the port, a number.
// @ts-expect-error number is not string
export const notAString: string = sock.getsockname()[1];
// An AF_INET address has two elements.
// @ts-expect-error no flowinfo on AF_INET
export const flowinfo: number = sock.getsockname()[2];
// An AF_UNIX socket's address is a path, not a tuple.
// @ts-expect-error string, not [host, port]
export const unixPort: number = new Socket(AF_UNIX).getsockname()[1];
const [a] = socketpair();
// @ts-expect-error socketpair() sockets are AF_UNIX
export const pairPort: [string, number] = a.getpeername();

// The address shapes a family takes.
// @ts-expect-error AF_INET takes [host, port]
sock.bind("/tmp/x.sock");
// @ts-expect-error AF_INET takes [host, port], not the IPv6 4-tuple
sock.connect(["127.0.0.1", 80, 0, 0]);
// @ts-expect-error AF_UNIX takes a path
new Socket(AF_UNIX).connect(["127.0.0.1", 80]);

// PollSelector has no fileno(), as in Python.
// @ts-expect-error no fileno() on PollSelector
new PollSelector().fileno();

// The internals are not in the published declarations.
// @ts-expect-error _lookup is @internal
sel._lookup(sock);
// @ts-expect-error _registrations is @internal
sel._registrations();

// Keys are read-only.
declare const key: SelectorKey<Handler, Socket>;
// @ts-expect-error readonly
key.data = () => {};

// The loop carries the family: sockAccept on an AF_INET socket gives [host, port].
export async function accept(): Promise<void> {
  const [conn, address] = await getRunningLoop().sockAccept(sock);
  // @ts-expect-error the port is a number
  const port: string = address[1];
  // @ts-expect-error AF_INET takes [host, port]
  await getRunningLoop().sockConnect(conn, "/tmp/x.sock");
  console.log(port);
}
