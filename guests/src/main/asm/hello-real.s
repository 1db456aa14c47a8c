# hello-real: a boot sector. jhyve (like a BIOS) starts it in real mode at 0000:7c00.
# Prints a greeting and the hostbridge's PCI vendor and device IDs on COM1, then powers off:
#   Hello from real mode
#   hostbridge vendor=1275 device=1275
        .include "platform.inc"
        .code16
        .text
        .globl  _start
_start:
        cli                             # no interrupt handlers here: keep interrupts off
        xor     %ax, %ax                # linked at 0x7c00, so every address is an offset in segment 0
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $PARAMETERS, %sp        # a BIOS promises no stack: take one below the parameter page
        cld                             # lodsb walks strings forwards

        call    uart_init
        mov     $hello, %si
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
        mov     $vendor, %si
        call    puts
        mov     %bx, %ax
        call    puthex16
        mov     $device, %si
        call    puts
        shr     $16, %ebx
        mov     %bx, %ax
        call    puthex16
        mov     $crlf, %si
        call    puts
        jmp     done
missing:
        mov     $no_hostbridge, %si
        call    puts
done:
        power_off

uart_init:
        uart_init_body
        ret

# puts: writes the NUL-terminated string at %ds:%si.
puts:
        lodsb
        test    %al, %al
        jz      1f
        call    putc
        jmp     puts
1:      ret

# putc: writes %al to COM1 once the transmitter can take it (polling LSR.THRE, as real hardware needs).
putc:
        push    %dx
        push    %ax
        mov     $COM1_LSR, %dx
1:      inb     %dx, %al
        test    $LSR_THRE, %al
        jz      1b
        pop     %ax
        mov     $COM1_THR, %dx
        outb    %al, %dx
        pop     %dx
        ret

# puthex16: writes %ax as four lowercase hex digits, most significant first.
puthex16:
        mov     $4, %cx
1:      rol     $4, %ax                 # bring the next nibble into the low bits
        push    %ax
        and     $0x0f, %al
        add     $'0', %al
        cmp     $'9', %al
        jbe     2f
        add     $('a' - '9' - 1), %al   # 10-15 become 'a'-'f'
2:      call    putc
        pop     %ax
        loop    1b
        ret

hello:          .asciz "Hello from real mode\r\n"
vendor:         .asciz "hostbridge vendor="
device:         .asciz " device="
crlf:           .asciz "\r\n"
no_hostbridge:  .asciz "hostbridge missing\r\n"

        .org    510                     # the BIOS boot signature ends the sector
        .byte   0x55, 0xaa
