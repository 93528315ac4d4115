"""Echo server on one asyncio event loop, as the event-loop server of the concurrency study.

    python3 echo_asyncio.py PORT    (prints the port once listening; 0 picks one)

asyncio's Protocol callbacks, not its streams: the fastest asyncio gets without uvloop
(streams cost about a third of the rate here), so the comparison is with asyncio at its best.
"""
import asyncio
import socket
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        transport.get_extra_info('socket').setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, '127.0.0.1', port, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main(int(sys.argv[1])))
