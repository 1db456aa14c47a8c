# Interrupt entry stubs for irq-test (../c/irq-test.c): one per vector the program programs into the LAPIC and
# IOAPIC, each pushing a zero error code and its vector so that irq_dispatch sees bench.h's struct trap_frame,
# as bench-entry.s's exception stubs do. Interrupts never push an error code. The frame layout (15 registers
# under vector and error code) keeps the stack 16-byte aligned at the call, as the CPU aligns it on entry.

        .include "trap-frame.inc"

        .text
        .macro irq_stub vector
irq_\vector:
        pushq $0
        pushq $\vector
        jmp irq_common
        .endm

        # The vectors irq-test.c uses (its VEC_* constants) and the spurious vector 0xff.
        .irp v, 0x30,0x31,0x40,0x41,0x42,0x43,0x50,0x60,0x70,0x80,0x90,0xa0,0xff
        irq_stub \v
        .endr

irq_common:
        trap_frame_call irq_dispatch

        .section .rodata
        .balign 8
        .globl irq_stub_table
irq_stub_table:                             # pairs of (vector, stub address), ended by a zero vector
        .irp v, 0x30,0x31,0x40,0x41,0x42,0x43,0x50,0x60,0x70,0x80,0x90,0xa0,0xff
        .quad \v, irq_\v
        .endr
        .quad 0, 0
