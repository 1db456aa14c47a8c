# hello-long: an ELF64 program linked at 0x100000. jhyve's loader starts it directly in 64-bit long
# mode: CS = 0x10 (64-bit code), flat data segments, the first 4 GiB identity-mapped, interrupts off,
# RSP = 0x8ff0. Prints on COM1, then powers off:
#   Hello from 64-bit long mode
#   hostbridge vendor=1275 device=1275
#   long mode: EFER.LMA=1
        .include "platform.inc"
        .code64
        .text
        .globl  _start
_start:
        cld                             # lodsb walks strings forwards
        call    uart_init
        lea     hello(%rip), %rsi
        call    puts

        # Register 0 of 00:00.0 is device ID << 16 | vendor ID; all-ones means no device answered.
        mov     $PCI_CONFIG_ADDRESS, %dx
        mov     $PCI_HOSTBRIDGE_ID, %eax
        outl    %eax, %dx
        mov     $PCI_CONFIG_DATA, %dx
        inl     %dx, %eax
        cmp     $0xffffffff, %eax
        je      missing
        mov     %eax, %ebx              # puts and putc leave %ebx alone
        lea     vendor(%rip), %rsi
        call    puts
        mov     %bx, %ax
        call    puthex16
        lea     device(%rip), %rsi
        call    puts
        shr     $16, %ebx
        mov     %bx, %ax
        call    puthex16
        lea     crlf(%rip), %rsi
        call    puts
        jmp     mode
missing:
        lea     no_hostbridge(%rip), %rsi
        call    puts

mode:
        # Prove we really run in long mode: EFER.LMA is set by the CPU only while long mode is active
        # (a 32-bit or real-mode start would read 0 here).
        mov     $MSR_EFER, %ecx
        rdmsr
        shr     $EFER_LMA_BIT, %eax
        and     $1, %eax
        add     $'0', %al
        mov     %eax, %ebx
        lea     lma(%rip), %rsi
        call    puts
        mov     %bl, %al
        call    putc
        lea     crlf(%rip), %rsi
        call    puts

        power_off

        .include "console64.inc"

hello:          .asciz "Hello from 64-bit long mode\r\n"
vendor:         .asciz "hostbridge vendor="
device:         .asciz " device="
crlf:           .asciz "\r\n"
no_hostbridge:  .asciz "hostbridge missing\r\n"
lma:            .asciz "long mode: EFER.LMA="
