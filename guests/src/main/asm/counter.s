# counter: the guest half of the custom-device example (docs/examples, CounterDevice.java). An ELF64
# program started in long mode like hello-long. It scans PCI bus 0 for the counter device (vendor 0x1234,
# device 0x0c0c) through configuration mechanism #1, reads the address of its memory BAR0, writes 41 to
# the device's VALUE register, reads its RESULT register (VALUE + 1) and prints on COM1
#   counter says 42
# then powers off. That is exactly two accesses to the BAR. Without the device it prints
# "counter missing" and powers off.
        .include "platform.inc"
        .equ COUNTER_ID, 0x0c0c1234     # configuration register 0: device ID << 16 | vendor ID
        .equ PCI_BAR0, 0x10             # configuration register of BAR0
        .equ PCI_NEXT_SLOT, 1 << 11     # config address bits 15:11 are the slot (device number)
        .equ PCI_BUS1, 0x80010000       # the first config address past bus 0
        .equ COUNTER_VALUE, 0x00        # BAR0 registers, see CounterDevice.java
        .equ COUNTER_RESULT, 0x04
        .code64
        .text
        .globl  _start
_start:
        cld                             # lodsb walks strings forwards
        call    uart_init

        # For each slot of bus 0, function 0, read register 0; an empty slot reads all-ones.
        mov     $0x80000000, %ebx       # enable bit 31; bus 0, slot 0, function 0, register 0
scan:
        mov     $PCI_CONFIG_ADDRESS, %dx
        mov     %ebx, %eax
        outl    %eax, %dx
        mov     $PCI_CONFIG_DATA, %dx
        inl     %dx, %eax
        cmp     $COUNTER_ID, %eax
        je      found
        add     $PCI_NEXT_SLOT, %ebx
        cmp     $PCI_BUS1, %ebx
        jb      scan
        lea     missing(%rip), %rsi
        call    puts
        jmp     off

found:
        # BAR0 of the function found: a 32-bit memory BAR keeps its type flags in the low 4 bits.
        mov     %ebx, %eax
        or      $PCI_BAR0, %eax
        mov     $PCI_CONFIG_ADDRESS, %dx
        outl    %eax, %dx
        mov     $PCI_CONFIG_DATA, %dx
        inl     %dx, %eax
        and     $0xfffffff0, %eax       # a 32-bit operation clears bits 63:32 of %rax too
        mov     %rax, %rdi              # the first 4 GiB are identity-mapped: BAR address = pointer

        movl    $41, COUNTER_VALUE(%rdi)        # an MMIO write: a VM exit the device's write() serves
        mov     COUNTER_RESULT(%rdi), %ebx      # an MMIO read: the device's read() answers VALUE + 1

        lea     says(%rip), %rsi
        call    puts
        mov     %ebx, %eax
        call    putdec
        lea     crlf(%rip), %rsi
        call    puts
off:
        power_off

# putdec: writes %eax as an unsigned decimal number (clobbers %eax, %ecx, %edx, %r8d).
putdec:
        mov     $10, %ecx
        xor     %r8d, %r8d              # digits pushed so far
1:      xor     %edx, %edx
        div     %ecx                    # %eax = quotient, %edx = the next digit, least significant first
        add     $'0', %dl
        push    %rdx
        inc     %r8d
        test    %eax, %eax
        jnz     1b
2:      pop     %rax                    # most significant digit first
        call    putc
        dec     %r8d
        jnz     2b
        ret

        .include "console64.inc"

says:           .asciz "counter says "
crlf:           .asciz "\r\n"
missing:        .asciz "counter missing\r\n"
