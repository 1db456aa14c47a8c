# exit-loop: the boot sector behind scripts/bench-exits. Makes N port-IO exits, then powers off.
# N is a 32-bit count the host writes at 0x7000 before the guest starts; each `out` to a port nothing
# claims costs one full exit to the VMM and back, which is what the benchmark times.
        .include "platform.inc"
        .code16
        .text
        .globl  _start
_start:
        cli                             # nothing may interrupt the loop
        xor     %ax, %ax
        mov     %ax, %ds                # the count is at absolute address 0x7000
        mov     PARAMETERS, %ecx        # N
        mov     $BENCH_PORT, %dx
        test    %ecx, %ecx
        jz      done                    # N = 0: no exits at all
1:      outb    %al, %dx                # one exit
        dec     %ecx
        jnz     1b
done:
        power_off

        .org    510                     # the BIOS boot signature ends the sector
        .byte   0x55, 0xaa
