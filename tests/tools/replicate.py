"""replicate.py IN.pcap OUT.pcap COUNT [--syn-only N]: COUNT copies of IN's conversations, each copy on its
own client port and address and shifted in time, interleaved in blocks, into one classic pcap (Ethernet
or raw link types carried over). With --syn-only N, N half-open conversations (a SYN each) are added.
Used by the durability and memory tests: a large capture with known content, made in seconds."""
import struct
import sys


def read_pcap(path):
    data = open(path, 'rb').read()
    magic = data[:4]
    if magic == b'\xd4\xc3\xb2\xa1':
        e = '<'
    elif magic == b'\xa1\xb2\xc3\xd4':
        e = '>'
    else:
        raise SystemExit('%s: classic microsecond pcap expected' % path)
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    pos, recs = 24, []
    while pos + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack(e + 'IIII', data[pos:pos + 16])
        recs.append((sec, usec, bytearray(data[pos + 16:pos + 16 + caplen]), wirelen))
        pos += 16 + caplen
    return linktype, recs


def ip_offset(linktype, frame):
    if linktype == 1:  # Ethernet
        return 14
    if linktype == 0:  # BSD loopback
        return 4
    if linktype in (12, 14, 101):
        return 0
    raise SystemExit('link type %d not supported here' % linktype)


def main():
    src, dst, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    syn_only = int(sys.argv[sys.argv.index('--syn-only') + 1]) if '--syn-only' in sys.argv else 0
    linktype, recs = read_pcap(src)
    base_sec = recs[0][0]
    out = open(dst, 'wb')
    out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype))
    # The first IPv4 packet tells which port is the client's (the side that is not on the server port).
    off = ip_offset(linktype, recs[0][2])
    server_port = None
    for _, _, fr, _ in recs:
        if fr[off] >> 4 == 4 and fr[off + 9] == 6:
            ihl = (fr[off] & 15) * 4
            sport, dport = struct.unpack('>HH', fr[off + ihl:off + ihl + 4])
            flags = fr[off + ihl + 13]
            server_port = dport if flags & 0x02 and not flags & 0x10 else sport
            break
    block = 50  # conversations interleaved at once
    n = 0
    for first in range(0, count, block):
        copies = range(first, min(first + block, count))
        for rec_i, (sec, usec, fr, wirelen) in enumerate(recs):
            for c in copies:
                f = bytearray(fr)
                if f[off] >> 4 == 4 and f[off + 9] == 6:
                    ihl = (f[off] & 15) * 4
                    # client address 10.x.y.z and port differ per copy
                    cip = bytes([10, (c >> 16) & 255, (c >> 8) & 255, c & 255])
                    cport = 1024 + (c % 60000)
                    sport, dport = struct.unpack('>HH', f[off + ihl:off + ihl + 4])
                    if sport == server_port:
                        f[off + 16:off + 20] = cip
                        f[off + ihl + 2:off + ihl + 4] = struct.pack('>H', cport)
                    else:
                        f[off + 12:off + 16] = cip
                        f[off + ihl:off + ihl + 2] = struct.pack('>H', cport)
                t = (sec - base_sec) * 1000000 + usec + (first // block) * 2000000 + c % block
                out.write(struct.pack('<IIII', base_sec + t // 1000000, t % 1000000, len(f), wirelen))
                out.write(f)
                n += 1
    # Half-open conversations: a SYN to the server port from many clients, never answered.
    if syn_only:
        template = None
        for _, _, fr, _ in recs:
            if fr[off] >> 4 == 4 and fr[off + 9] == 6:
                ihl = (fr[off] & 15) * 4
                if fr[off + ihl + 13] & 0x02 and not fr[off + ihl + 13] & 0x10:
                    template = bytearray(fr[:off + ihl + 20])
                    template[off + ihl + 12] = 0x50
                    template[off + 2:off + 4] = struct.pack('>H', ihl + 20)
                    break
        if template is None:
            raise SystemExit('no SYN in %s' % src)
        ihl = (template[off] & 15) * 4
        t0 = (count // block + 1) * 2000000
        for i in range(syn_only):
            f = bytearray(template)
            f[off + 12:off + 16] = bytes([172, 16 + ((i >> 16) & 15), (i >> 8) & 255, i & 255])
            f[off + ihl:off + ihl + 2] = struct.pack('>H', 1024 + (i % 60000))
            t = t0 + i
            out.write(struct.pack('<IIII', base_sec + t // 1000000, t % 1000000, len(f), len(f)))
            out.write(f)
            n += 1
    out.close()
    print('%s: %d frames, %d conversations, %d half-open' % (dst, n, count, syn_only))


if __name__ == '__main__':
    main()
