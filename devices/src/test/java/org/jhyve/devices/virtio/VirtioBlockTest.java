package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;

/** virtio-blk requests, straight through {@link VirtioBlock#handle} on heap guest memory. */
class VirtioBlockTest {
    static final int DISK = 64 * 1024;
    final GuestMemory memory = SegmentGuestMemory.onHeap(1 << 20);
    final VirtqueueDriver driver = new VirtqueueDriver(memory, 0x1000, 16, 0x10000, 1 << 20);

    VirtioBlock device(MemoryBlockBackend backend, String options) {
        return new VirtioBlock("vblk", backend, VirtioBlockOptions.parse("disk.img" + options));
    }

    /** Queues one request and runs it; returns the status byte and the used length. */
    record Result(int status, int written, long dataAt) {}

    Result request(VirtioBlock dev, int type, long sector, int dataLen, boolean dataWritable, byte[] data) throws Exception {
        long header = driver.allocate(16);
        ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector);
        memory.write(header, h.array());
        long dataAt = dataLen > 0 ? driver.allocate(dataLen) : 0;
        if (data != null) memory.write(dataAt, data);
        long status = driver.allocate(1);
        memory.writeByte(status, (byte) 0x7f);
        List<Buf> bufs = dataLen > 0
                ? List.of(Buf.in(header, 16), new Buf(dataAt, dataLen, dataWritable), Buf.out(status, 1))
                : List.of(Buf.in(header, 16), Buf.out(status, 1));
        driver.addChain(bufs);
        SplitQueue q = new SplitQueue(memory, driver.layout(), false, false);
        DescriptorChain chain = null;
        for (DescriptorChain c; (c = q.pop()) != null; ) chain = c; // the newest
        int written = dev.handle(chain);
        return new Result(memory.readByte(status), written, dataAt);
    }

    @Test
    void readsWhatIsOnTheDisk() throws Exception {
        MemoryBlockBackend disk = new MemoryBlockBackend(DISK, false);
        for (int i = 0; i < DISK; i++) disk.data[i] = (byte) (i * 31 + 7);
        Result r = request(device(disk, ""), VirtioBlock.T_IN, 3, 1024, true, null);
        assertThat(r.status()).isEqualTo(VirtioBlock.S_OK);
        assertThat(r.written()).isEqualTo(1025);
        assertThat(memory.readBytes(r.dataAt(), 1024)).isEqualTo(java.util.Arrays.copyOfRange(disk.data, 3 * 512, 3 * 512 + 1024));
    }

    @Test
    void writesReachTheDiskAndFlushReachesTheBackend() throws Exception {
        MemoryBlockBackend disk = new MemoryBlockBackend(DISK, false);
        VirtioBlock dev = device(disk, "");
        byte[] data = new byte[512];
        java.util.Arrays.fill(data, (byte) 0x5a);
        Result w = request(dev, VirtioBlock.T_OUT, 10, 512, false, data);
        assertThat(w.status()).isEqualTo(VirtioBlock.S_OK);
        assertThat(w.written()).isEqualTo(1);
        assertThat(java.util.Arrays.copyOfRange(disk.data, 5120, 5632)).isEqualTo(data);
        assertThat(request(dev, VirtioBlock.T_FLUSH, 0, 0, false, null).status()).isEqualTo(VirtioBlock.S_OK);
        assertThat(disk.flushes.get()).isEqualTo(1);
    }

    @Test
    void nodeleteOffersNoDiscardButStillWriteZeroes() throws Exception {
        MemoryBlockBackend disk = new MemoryBlockBackend(DISK, false);
        assertThat(device(disk, "").deviceFeatures() & 1L << VirtioBlock.F_DISCARD).as("discard by default").isNotZero();
        VirtioBlock dev = device(disk, ",nodelete");
        assertThat(dev.deviceFeatures() & 1L << VirtioBlock.F_DISCARD).isZero();
        assertThat(dev.deviceFeatures() & 1L << VirtioBlock.F_WRITE_ZEROES).isNotZero();
        assertThat(VirtioBlockOptions.parse("d.img,nodelete").discard()).isFalse();
        assertThat(VirtioBlockOptions.parse("d.img,direct").direct()).as("bhyve's direct is O_SYNC, not O_DIRECT").isFalse();
        assertThat(VirtioBlockOptions.parse("d.img,direct").sync()).isTrue();
    }

    @Test
    void readOnlyDisksRefuseWritesDiscardsAndZeroing() throws Exception {
        MemoryBlockBackend disk = new MemoryBlockBackend(DISK, true);
        VirtioBlock dev = device(disk, ",ro");
        assertThat(dev.deviceFeatures() & 1L << VirtioBlock.F_RO).isNotZero();
        assertThat(dev.deviceFeatures() & 1L << VirtioBlock.F_DISCARD).isZero();
        assertThat(request(dev, VirtioBlock.T_OUT, 0, 512, false, new byte[512]).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 16, false, range(0, 1, 0)).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_IN, 0, 512, true, null).status()).isEqualTo(VirtioBlock.S_OK);
    }

    @Test
    void requestsPastTheEndOrNotInSectorsGetIoErr() throws Exception {
        VirtioBlock dev = device(new MemoryBlockBackend(DISK, false), "");
        long sectors = DISK / 512;
        assertThat(request(dev, VirtioBlock.T_IN, sectors, 512, true, null).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_IN, sectors - 1, 1024, true, null).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_IN, Long.MAX_VALUE / 256, 512, true, null).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_IN, -1, 512, true, null).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_OUT, 0, 100, false, new byte[100]).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_IN, sectors - 1, 512, true, null).status()).isEqualTo(VirtioBlock.S_OK);
        assertThat(dev.badRequests()).isEqualTo(5);
    }

    @Test
    void unknownTypesAreUnsupported() throws Exception {
        VirtioBlock dev = device(new MemoryBlockBackend(DISK, false), "");
        assertThat(request(dev, 99, 0, 0, false, null).status()).isEqualTo(VirtioBlock.S_UNSUPP);
    }

    @Test
    void getIdReturnsTheSerial() throws Exception {
        VirtioBlock dev = device(new MemoryBlockBackend(DISK, false), ",serial=jhyve-0042");
        Result r = request(dev, VirtioBlock.T_GET_ID, 0, 20, true, null);
        assertThat(r.status()).isEqualTo(VirtioBlock.S_OK);
        assertThat(new String(memory.readBytes(r.dataAt(), 10))).isEqualTo("jhyve-0042");
        assertThat(memory.readByte(r.dataAt() + 10)).isZero();
        assertThat(r.written()).isEqualTo(21);
    }

    @Test
    void discardAndWriteZeroesClearTheirRangesAndCheckThem() throws Exception {
        MemoryBlockBackend disk = new MemoryBlockBackend(DISK, false);
        java.util.Arrays.fill(disk.data, (byte) 1);
        VirtioBlock dev = device(disk, "");
        assertThat(request(dev, VirtioBlock.T_WRITE_ZEROES, 0, 16, false, range(2, 2, 1)).status()).isEqualTo(VirtioBlock.S_OK);
        assertThat(disk.data[1023]).isEqualTo((byte) 1);
        assertThat(disk.data[1024]).isZero();
        assertThat(disk.data[2047]).isZero();
        assertThat(disk.data[2048]).isEqualTo((byte) 1);
        assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 16, false, range(DISK / 512, 1, 0)).status()).as("past the end").isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 16, false, range(0, 1, 1)).status()).as("unmap flag on discard").isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 12, false, new byte[12]).status()).as("partial range").isEqualTo(VirtioBlock.S_IOERR);
    }

    @Test
    void aWholeDiskDiscardOfAFourGibImageFreesItsBlocks(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        long size = 4L << 30;
        java.nio.file.Path img = dir.resolve("big.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(size); // sparse
            byte[] data = new byte[1 << 20];
            java.util.Arrays.fill(data, (byte) 0x5a);
            for (long at : new long[] {0, size / 2, size - data.length}) {
                f.seek(at);
                f.write(data);
            }
            f.getFD().sync();
        }
        long before = allocatedBlocks(img);
        assertThat(before).as("3 MiB allocated, in 512-byte blocks").isGreaterThanOrEqualTo(3 * 2048);
        try (org.jhyve.devices.block.FileBlockBackend backend = org.jhyve.devices.block.FileBlockBackend.open(img.toString(), false, false, false)) {
            VirtioBlock dev = new VirtioBlock("vblk", backend, VirtioBlockOptions.parse(img.toString()));
            long sectors = size / 512;
            assertThat(dev.configRead(36, 4)).as("max_discard_sectors").isGreaterThanOrEqualTo(sectors);
            assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 16, false, range(0, (int) sectors, 0)).status()).as("whole-disk discard").isEqualTo(VirtioBlock.S_OK);
            assertThat(allocatedBlocks(img)).as("blocks after the discard (before: %d)", before).isLessThan(before / 8);
            byte[] back = new byte[4096];
            backend.read(size / 2, List.of(java.lang.foreign.MemorySegment.ofArray(back)));
            assertThat(back).isEqualTo(new byte[4096]);
            // Write-zeroes has the same limit; one sector more than a range may hold is refused.
            assertThat(request(dev, VirtioBlock.T_WRITE_ZEROES, 0, 16, false, range(0, (int) sectors, 1)).status()).isEqualTo(VirtioBlock.S_OK);
            assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 16, false, range(0, VirtioBlock.MAX_RANGE_SECTORS + 1, 0)).status()).isEqualTo(VirtioBlock.S_IOERR);
            assertThat(dev.badRequests()).isEqualTo(1);
        }
    }

    @Test
    void rangesWithHostileSectorsAndCountsAreRefusedAndEmptyOnesAreNoOps(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path img = java.nio.file.Files.write(dir.resolve("d.img"), new byte[DISK]);
        try (org.jhyve.devices.block.FileBlockBackend backend = org.jhyve.devices.block.FileBlockBackend.open(img.toString(), false, false, false)) {
            VirtioBlock dev = new VirtioBlock("vblk", backend, VirtioBlockOptions.parse(img.toString()));
            long sectors = DISK / 512;
            for (byte[] range : List.of(range(Long.MAX_VALUE, -1, 0), range(Long.MIN_VALUE, 1, 0), range(-1, 1, 0),
                    range(sectors - 1, 2, 0), range(sectors, 1, 0), range(Long.MAX_VALUE / 512 + 1, 1, 0))) {
                assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 16, false, range).status()).isEqualTo(VirtioBlock.S_IOERR);
                assertThat(request(dev, VirtioBlock.T_WRITE_ZEROES, 0, 16, false, range).status()).isEqualTo(VirtioBlock.S_IOERR);
            }
            assertThat(dev.ioErrors()).as("refused by the checks, none reached the host").isZero();
            // An empty range inside the disk asks for nothing: OK, and no fallocate (which would say EINVAL).
            assertThat(request(dev, VirtioBlock.T_DISCARD, 0, 16, false, range(3, 0, 0)).status()).isEqualTo(VirtioBlock.S_OK);
            assertThat(request(dev, VirtioBlock.T_WRITE_ZEROES, 0, 16, false, range(3, 0, 0)).status()).isEqualTo(VirtioBlock.S_OK);
            assertThat(request(dev, VirtioBlock.T_WRITE_ZEROES, 0, 16, false, range(3, 0, 1)).status()).isEqualTo(VirtioBlock.S_OK);
            assertThat(dev.ioErrors()).isZero();
        }
    }

    static long allocatedBlocks(java.nio.file.Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.waitFor()).isZero();
        return Long.parseLong(out);
    }

    @Test
    void hostFailuresBecomeIoErrAndAreCounted() throws Exception {
        MemoryBlockBackend disk = new MemoryBlockBackend(DISK, false);
        VirtioBlock dev = device(disk, "");
        disk.failIo = true;
        assertThat(request(dev, VirtioBlock.T_IN, 0, 512, true, null).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_FLUSH, 0, 0, false, null).status()).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(dev.ioErrors()).isEqualTo(2);
    }

    @Test
    void chainsTooShortForARequestCompleteEmpty() throws Exception {
        VirtioBlock dev = device(new MemoryBlockBackend(DISK, false), "");
        long header = driver.allocate(16);
        driver.addChain(List.of(Buf.in(header, 8)));
        DescriptorChain c = new SplitQueue(memory, driver.layout(), false, false).pop();
        assertThat(dev.handle(c)).isZero();
        assertThat(dev.badRequests()).isEqualTo(1);
    }

    @Test
    void configSpaceSaysCapacityBlockSizeAndQueues() {
        VirtioBlock dev = device(new MemoryBlockBackend(DISK, false), ",sectorsize=4096,num-queues=4");
        assertThat(dev.configRead(0, 8)).isEqualTo(DISK / 512);
        assertThat(dev.configRead(20, 4)).isEqualTo(4096);
        assertThat(dev.configRead(34, 2)).isEqualTo(4);
        assertThat(dev.queueCount()).isEqualTo(4);
        assertThat(dev.deviceFeatures() & 1L << VirtioBlock.F_MQ).isNotZero();
        assertThat(dev.deviceFeatures() & 1L << VirtioBlock.F_FLUSH).isNotZero();
    }

    @Test
    void theCapacityHoldsWholeLogicalBlocksOnly() throws Exception {
        // 4 blocks of 4096 and 512 bytes more: with sectorsize=4096 the guest sees 32 sectors, not 33.
        VirtioBlock dev = device(new MemoryBlockBackend(4 * 4096 + 512, false), ",sectorsize=4096");
        assertThat(dev.configRead(0, 8)).isEqualTo(32);
        assertThat(request(dev, VirtioBlock.T_IN, 32, 512, true, null).status()).as("the sector after the last whole block").isEqualTo(VirtioBlock.S_IOERR);
        assertThat(request(dev, VirtioBlock.T_IN, 24, 4096, true, null).status()).isEqualTo(VirtioBlock.S_OK);
    }

    @Test
    void optionsAreParsedAndBadOnesRefused() {
        VirtioBlockOptions o = VirtioBlockOptions.parse("/d.img,ro,nocache,sync,sectorsize=512/4096,serial=abc,num-queues=2");
        assertThat(o).isEqualTo(new VirtioBlockOptions("/d.img", true, true, true, 512, 4096, Optional.of("abc"), 2));
        for (String bad : List.of("", "/d,sectorsize=4096/512", "/d,serial=" + "x".repeat(21), "/d,num-queues=17", "/d,bogus", "/d,sectorsize=")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> VirtioBlockOptions.parse(bad)).as(bad)
                    .isInstanceOf(org.jhyve.vm.DeviceConfigException.class).hasMessageContaining("virtio-blk");
        }
    }

    private static byte[] range(long sector, int count, int flags) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, sector).putInt(8, count).putInt(12, flags).array();
    }
}
