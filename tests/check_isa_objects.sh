#!/usr/bin/env bash
# Build check of the run-time ISA dispatch (kernels/cpu_isa.h): code outside the ISA copies uses no AVX register,
# and each copy exports nothing but its table getter (and code-free type_info), so nothing else can bind to it.
# Usage: check_isa_objects.sh path/to/libpreimage_core.a objdump nm
set -u
lib=${1:?library} objdump=${2:?objdump} nm=${3:?nm}
status=0
# One line per archive member that is an ISA copy; the library's other members are the baseline.
for isa in avx2 avx512; do
  syms=$("$nm" -g --defined-only "$lib" 2>/dev/null |
         awk -v m="preimage_isa_${isa}.o:" '/:$/ {cur=$1} cur==m && NF==3 {print $3}')
  extra=$(echo "$syms" | grep -v -e "^preimage_cpu_kernels_${isa}\$" -e '^_ZTI' -e '^_ZTS' -e '^$')
  if ! echo "$syms" | grep -qx "preimage_cpu_kernels_${isa}"; then
    echo "FAIL: the library holds no ${isa} copy (preimage_isa_${isa}.o with its table)"; status=1
  elif [ -n "$extra" ]; then
    echo "FAIL: preimage_isa_${isa}.o exports more than its table: $(echo $extra | head -c 400)"; status=1
  else echo "ok: preimage_isa_${isa}.o exports only preimage_cpu_kernels_${isa}"; fi
done
# Every function of a baseline member that names a ymm/zmm register.
hits=$("$objdump" -d --no-show-raw-insn "$lib" |
       awk '/^In archive/ {next} /file format/ {member=$1; next}
            /^[0-9a-f]+ <.*>:$/ {fn=$2}
            /%[yz]mm[0-9]/ && member !~ /^preimage_isa_/ {print member " " fn}' | sort -u)
if [ -n "$hits" ]; then echo "FAIL: baseline code uses AVX registers:"; echo "$hits" | head -20; status=1
else echo "ok: no baseline member uses AVX registers"; fi
exit $status
