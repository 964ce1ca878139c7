"""damage.py ASAN_BINARY [N]: every sample damaged in N deterministic ways (bit flips, byte overwrites,
cut records, wrong record lengths, as editcap -E and a cut file do) must go through `read` under
ASan+UBSan with exit 0, 1 or 2, no sanitizer report and no hang."""
import glob
import os
import random
import struct
import subprocess
import sys

OUT = 'tests/out/damaged'


def records(data):
    """Offsets of pcap record headers (classic pcap only); [] for other formats."""
    if len(data) < 24 or data[:4] not in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\x4d\x3c\xb2\xa1',
                                          b'\xa1\xb2\x3c\x4d'):
        return []
    endian = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    offs, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(endian + 'I', data[pos + 8:pos + 12])[0]
        offs.append((pos, endian))
        pos += 16 + caplen
    return offs


def damage(data, rng, how):
    b = bytearray(data)
    recs = records(data)
    if how == 'bitflip':
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(24, len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif how == 'overwrite':
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(24, len(b))
            n = rng.randint(1, 64)
            b[i:i + n] = bytes(rng.randrange(256) for _ in range(min(n, len(b) - i)))
    elif how == 'cut':
        b = b[:rng.randrange(24, len(b))]
    elif how == 'caplen' and recs:
        pos, endian = rng.choice(recs)
        b[pos + 8:pos + 12] = struct.pack(endian + 'I', rng.choice([0, 1, 13, 65535, 262144, 0x7fffffff,
                                                                    0xffffffff]))
    elif how == 'wirelen' and recs:
        pos, endian = rng.choice(recs)
        b[pos + 12:pos + 16] = struct.pack(endian + 'I', rng.choice([0, 1, 0xffffffff]))
    elif how == 'payload' and recs:
        # damage only inside IP/TCP headers of a few frames: lengths, offsets, flags
        for _ in range(rng.randint(1, 4)):
            pos, _e = rng.choice(recs)
            start = pos + 16 + 14
            for _ in range(3):
                i = start + rng.randrange(0, 60)
                if i < len(b):
                    b[i] = rng.randrange(256)
    return bytes(b)


def main():
    binary = sys.argv[1]
    per_sample = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    os.makedirs(OUT, exist_ok=True)
    kinds = ['bitflip', 'overwrite', 'cut', 'caplen', 'wirelen', 'payload']
    failures = 0
    total = 0
    for path in sorted(glob.glob('samples/*.pcap')):
        data = open(path, 'rb').read()
        name = os.path.basename(path)[:-5]
        rng = random.Random(name)  # deterministic per sample
        for i in range(per_sample):
            how = kinds[i % len(kinds)]
            variant = os.path.join(OUT, '%s-%02d-%s.pcap' % (name, i, how))
            with open(variant, 'wb') as f:
                f.write(damage(data, rng, how))
            total += 1
            try:
                proc = subprocess.run([binary, 'read', '--no-db', '--netmon', variant], capture_output=True,
                                      timeout=20)
            except subprocess.TimeoutExpired:
                print('FAIL damaged %s: hang (20 s)' % variant)
                failures += 1
                continue
            err = proc.stderr.decode('utf-8', 'replace')
            if proc.returncode not in (0, 1, 2) or 'Sanitizer' in err or 'runtime error' in err:
                print('FAIL damaged %s: exit %d %s' % (variant, proc.returncode, err[-400:]))
                failures += 1
            else:
                os.unlink(variant)
    if failures == 0:
        print('PASS damaged samples: %d variants, no crash, no sanitizer report, no hang' % total)


if __name__ == '__main__':
    main()
