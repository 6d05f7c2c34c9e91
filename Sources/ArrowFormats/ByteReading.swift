/// Bounds-checked integer and string reads over captured bytes; a read past the end yields nil, never a trap.
extension Array where Element == UInt8 {
    func bigEndian<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type, at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - size else { return nil }
        var value: T = 0
        for index in offset..<(offset + size) { value = value << 8 | T(self[index]) }
        return value
    }

    func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type, at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - size else { return nil }
        var value: T = 0
        for index in (offset..<(offset + size)).reversed() { value = value << 8 | T(self[index]) }
        return value
    }

    /// True when the bytes at `offset` equal `magic`.
    func has(_ magic: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset <= count - magic.count else { return false }
        return self[offset..<(offset + magic.count)].elementsEqual(magic)
    }

    func ascii(at offset: Int, length: Int) -> String? {
        guard offset >= 0, length >= 0, offset <= count - length else { return nil }
        return String(decoding: self[offset..<(offset + length)], as: UTF8.self)
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
