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
// in data (bytes past the last whole word are left out), read in place
// where Words can.
func Uint32s(data string) []uint32 { return Words(data, le32) }

// Words returns the words of type T that data holds one after another,
// each the size of a T and read from its little-endian bytes by decode
// (bytes past the last whole word are left out; nil for none). On a
// little-endian machine, for data aligned for T (an embedded table: the
// linker aligns large symbols), the words are data itself, read in place:
// nothing is copied or allocated, and only the pages a reader touches are
// faulted in. Otherwise they are a copy decoded by decode. Either way the
// caller must not change them: data may be read-only memory. T must hold
// no pointers.
func Words[T any](data string, decode func(string) T) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	n := len(data) / size
	if n == 0 {
		return nil
	}
	p := unsafe.StringData(data)
	if LittleEndian && uintptr(unsafe.Pointer(p))%unsafe.Alignof(zero) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(p)), n)
	}
	words := make([]T, n)
	for i := range words {
		words[i] = decode(data[size*i:])
	}
	return words
}

// LittleEndian is whether the machine stores words little end first: then
// Words reads aligned data in place.
var LittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
