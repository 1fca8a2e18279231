/**
 * Whether this machine's CPU multiplies uint8 by int8 in hardware dot products without saturation: x86 with VNNI
 * (AVX-512 VNNI or AVX-VNNI: `vpdpbusd`) or ARM with dot products (`asimddp`; every Apple silicon).  onnxruntime's
 * U8S8 GEMM uses them; without them it pairs products with `vpmaddubsw`, whose int16 sums can saturate.  Read once
 * from /proc/cpuinfo on Linux; elsewhere only Apple silicon is known to have them.
 */
import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:os';

let known: boolean | undefined;

export function hasInt8DotProduct(): boolean {
  if (known !== undefined) return known;
  if (platform() === 'darwin') return (known = arch() === 'arm64');
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return (known = false);
  }
  const flags = new Set(
    cpuinfo
      .split('\n')
      .filter((l) => /^(flags|Features)\s*:/.test(l))
      .flatMap((l) => l.split(':')[1]!.trim().split(/\s+/)),
  );
  return (known = ['avx512_vnni', 'avx_vnni', 'asimddp'].some((f) => flags.has(f)));
}
