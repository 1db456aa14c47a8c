# start-probe: the guest of scripts/bench-start. It measures how long a VMM takes from process start to
# the guest's first instruction, so its first instructions write a byte to COM1's data port: the VMM
# must take that exit and put the byte on its standard output, where the timer sees it. Then three lines,
# then either power-off at once or, when the PVH command line starts with "stay", a halt with interrupts
# on (in KVM's in-kernel LAPIC the vCPU sleeps there, costing nothing) so that the VMM's memory can be
# read while it runs. Interrupts are on because a VMM may rightly end a VM whose every vCPU halted with
# them off (jhyve does, with status 2, as bhyve). Nothing is set up to interrupt it, and there is no IDT:
# an interrupt would end the VM by triple fault, which the timer reports as a copy that did not stay.
#
# PVH (Xen's docs/misc/pvh.pandoc): entered in 32-bit protected mode, paging off, flat segments, EBX the
# guest-physical address of struct hvm_start_info (cmdline_paddr at offset 24). No stack is used. The
# same ELF boots on jhyve (-f kexec,ELF,,CMDLINE), QEMU microvm (-kernel ELF -append CMDLINE) and
# scripts/bench/kvm-start.c. Power-off writes both jhyve's ACPI PM1a_CNT (0x404) and QEMU's
# isa-debug-exit port (0xf4, "-device isa-debug-exit,iobase=0xf4", exit status 1 like jhyve's power-off).

        .set COM1, 0x3f8
        .set PM1A_CNT, 0x404
        .set S5_POWER_OFF, (5 << 10) | (1 << 13)
        .set DEBUG_EXIT, 0xf4
        .set START_INFO_CMDLINE, 24

        .include "pvh-note.inc"

        .text
        .code32
        .globl pvh_start
pvh_start:
        mov $COM1, %dx                      # the first port write, three instructions in
        mov $'>', %al
        out %al, %dx
        cld
        mov $lines, %esi
1:      lodsb
        test %al, %al
        jz 2f
        out %al, %dx
        jmp 1b
2:      mov START_INFO_CMDLINE(%ebx), %esi  # "stay..." keeps the VM running, halted
        test %esi, %esi
        jz power_off
        cmpl $0x79617473, (%esi)            # "stay", little-endian
        jne power_off
1:      sti
        hlt
        jmp 1b
power_off:
        mov $PM1A_CNT, %dx
        mov $S5_POWER_OFF, %ax
        out %ax, %dx
        mov $DEBUG_EXIT, %dx
        xor %al, %al
        out %al, %dx
        cli
2:      hlt
        jmp 2b

        .section .rodata
lines:  .ascii "start-probe: first port write done\n"
        .ascii "start-probe: console up\n"
        .asciz "start-probe: ready\n"
