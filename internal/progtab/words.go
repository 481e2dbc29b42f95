package progtab

import (
	"encoding/binary"
	"unsafe"
)

// AppendUint32s appends the words to dst, little-endian: a table that
// Uint32s reads.
func AppendUint32s(dst []byte, words []uint32) []byte {
	for _, w := range words {
		dst = binary.LittleEndian.AppendUint32(dst, w)
	}
	return dst
}

// Uint32s returns the little-endian 32-bit words that AppendUint32s wrote
// in data (bytes past the last whole word are left out). On a
// little-endian machine, for data aligned for them (an embedded table: the
// linker aligns large symbols), the words are data itself, read in place:
// nothing is copied or allocated, and only the pages a reader touches are
// faulted in. Otherwise they are a decoded copy. Either way the caller
// must not change them: data may be read-only memory.
func Uint32s(data string) []uint32 {
	n := len(data) / 4
	if n == 0 {
		return nil
	}
	p := unsafe.StringData(data)
	if littleEndian && uintptr(unsafe.Pointer(p))%unsafe.Alignof(uint32(0)) == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(p)), n)
	}
	words := make([]uint32, n)
	for i := range words {
		words[i] = le32(data[4*i:])
	}
	return words
}

// littleEndian is whether the machine stores words little end first.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
