# countdown: an ELF64 program (started by jhyve in 64-bit long mode, linked at 0x100000) whose first
# instructions have a fixed layout, for debugger tests (cli's GdbStubTest): a loop counts %ebx down from 3,
# storing each value in `counter`, then the program prints "countdown done" on COM1 and powers off.
#   0x100000  bb 03 00 00 00      mov  $3, %ebx
#   0x100005  ff cb               dec  %ebx                  <- loop, run 3 times
#   0x100007  89 1d rel32         mov  %ebx, counter(%rip)   (mov leaves the flags of dec alone)
#   0x10000d  75 f6               jnz  0x100005
#   0x10000f  ...                 the rest
        .include "platform.inc"
        .code64
        .text
        .globl  _start
_start:
        mov     $3, %ebx
loop:
        dec     %ebx
        mov     %ebx, counter(%rip)
        jnz     loop

        cld                             # lodsb walks strings forwards
        call    uart_init
        lea     done(%rip), %rsi
        call    puts
        power_off

        .include "console64.inc"

done:           .asciz "countdown done\r\n"

        .data
counter:        .long 0xffffffff
