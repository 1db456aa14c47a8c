# sse: an ELF64 program (started by jhyve in 64-bit long mode, kernel mode, linked at 0x100000) for the GDB
# stub's SSE registers (cli's GdbStubTest). It loads a known value into %xmm1 and MXCSR, passes a fixed
# address where a debugger can read and change them, then stores both and prints them on COM1, so what a
# debugger wrote shows in the output. Alone it prints
#   xmm1=11223344 55667788 99aabbcc ddeeff00 mxcsr=00007f80
# (xmm1 as four dwords, least significant first: gdb's $xmm1.v4_int32[0..3]). Fixed layout:
#   0x100000  0f 20 e0 / 48 0d ... / 0f 22 e0   CR4.OSFXSR on (without it SSE instructions raise #UD)
#   0x10000c  0f ae 15 rel32          ldmxcsr mxcsr_in(%rip)     (completed by jhyve where KVM cannot)
#   0x100013  f3 0f 6f 0d rel32       movdqu  pattern(%rip), %xmm1
#   0x10001b  f3 0f 7f 0d rel32       movdqu  %xmm1, xmm1_out(%rip)   <- loaded: both hold the known values
#   0x100023  0f ae 1d rel32          stmxcsr mxcsr_out(%rip)
#   0x10002a  ...                     print, power off           <- stored: both are in memory
        .include "platform.inc"
        .equ    CR4_OSFXSR, 1 << 9
        .code64
        .text
        .globl  _start
_start:
        mov     %cr4, %rax
        or      $CR4_OSFXSR, %rax
        mov     %rax, %cr4
        ldmxcsr mxcsr_in(%rip)
        movdqu  pattern(%rip), %xmm1
loaded:
        movdqu  %xmm1, xmm1_out(%rip)
        stmxcsr mxcsr_out(%rip)
stored:
        cld                             # lodsb walks strings forwards
        call    uart_init
        lea     xmm1_text(%rip), %rsi
        call    puts
        lea     xmm1_out(%rip), %rbx
        mov     $4, %r12d
1:      mov     (%rbx), %eax
        call    puthex32
        add     $4, %rbx
        dec     %r12d
        jz      2f
        mov     $' ', %al
        call    putc
        jmp     1b
2:      lea     mxcsr_text(%rip), %rsi
        call    puts
        mov     mxcsr_out(%rip), %eax
        call    puthex32
        lea     crlf(%rip), %rsi
        call    puts
        power_off

# puthex32: writes %eax as eight lowercase hex digits (clobbers %rax, %rcx).
puthex32:
        push    %rax
        shr     $16, %eax
        call    puthex16
        pop     %rax
        jmp     puthex16

        .include "console64.inc"

xmm1_text:      .asciz "xmm1="
mxcsr_text:     .asciz " mxcsr="
crlf:           .asciz "\r\n"

        .data
        .balign 16
pattern:        .long 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00
xmm1_out:       .fill 16, 1, 0
mxcsr_in:       .long 0x7f80        # every exception masked, rounding toward zero (RC = 11)
mxcsr_out:      .long 0
